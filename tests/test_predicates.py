"""Static predicates on hand-made subjects: the cases a control's two fixtures do not show,
above all the ways a configuration could slip past a check."""

from __future__ import annotations

from typing import Any

import pytest

from compliance import engine
from compliance.inputs.facts import parse_facts
from compliance.models.common import Severity, Status
from compliance.models.control import Check, CheckKind, Control
from compliance.selection import SelectedControl
from compliance.subject import Subject


def _facts(options: dict[str, Any], unavailable: list[str] | None = None) -> Subject:
    doc = {"facts_version": 1, "origin": {"unavailable": unavailable or []}, "options": options}
    return Subject(facts=parse_facts(doc, "test facts"))


def _run(function: str, subject: Subject, params: dict[str, Any] | None = None) -> tuple[Status, str]:
    control = Control(id="TT-01", title="t", severity=Severity.HIGH, rationale="r",
                      checks=[Check(kind=CheckKind.STATIC, function=function)])
    result = engine.evaluate_control(SelectedControl(control, dict(params or {}), {}), CheckKind.STATIC, subject)
    return result.status, result.message


def _firewall(tcp_ranges: list[Any], udp_ranges: list[Any] | None = None, interfaces: dict[str, Any] | None = None) -> Subject:
    return _facts({"networking": {"firewall": {
        "enable": True, "allowedTCPPorts": [22], "allowedUDPPorts": [],
        "allowedTCPPortRanges": tcp_ranges, "allowedUDPPortRanges": udp_ranges or [], "interfaces": interfaces or {},
    }}})


@pytest.mark.parametrize(("subject", "status", "words"), [
    (_firewall([{"from": 8000, "to": 8010}]), Status.FAIL, "TCP port ranges open ports beyond the allowlist: 8000-8010"),
    (_firewall([], interfaces={"eth0": {"allowedTCPPortRanges": [{"from": 1, "to": 65535}]}}), Status.FAIL, "1-65535"),
    (_firewall([], udp_ranges=[{"from": 60000, "to": 61000}]), Status.FAIL, "UDP port ranges"),
    (_firewall([{"from": 22, "to": 22}]), Status.PASS, "firewall enabled"),
    (_firewall(["8000-8010"]), Status.ERROR, "allowedTCPPortRanges is not a list of {from, to} port ranges"),
])
def test_port_ranges_do_not_escape_the_port_allowlist(subject: Subject, status: Status, words: str) -> None:
    got, message = _run("firewall_enabled", subject, {"allowed_tcp_ports": [22], "allowed_udp_ports": [53]})
    assert (got, words in message) == (status, True), message
