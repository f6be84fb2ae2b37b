"""Forged and replayed reports against the wave gate, all made for real: a report of
another wave, one signed by another host's key, one from a host running another closure,
stale, dated in the future, taken before the activation, duplicated, from a host the
wave does not list, another host's report under this host's name, a tampered signature,
a truncated file, garbage. Each is put next to genuine reports of the other hosts of the
wave; each gets its own classification and verdict, and none of them promotes or counts
as valid evidence."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compliance.signing.dsse import sign_envelope
from compliance.signing.keys import NativeSigner
from compliance.util.canonical import canonical_json
from tests.support.cli import run
from tests.support.promote import (  # noqa: F401
    ENV,
    NONCE,
    PASSWORD,
    Fleet,
    Spec,
    T,
    fleet,
    good,
    lab_policy,
    place,
)

HOSTS = ("web-1", "web-2", "web-3")


@dataclass(frozen=True)
class Case:
    """What goes into web-2's place, and what the gate must make of it."""

    build: Callable[[Fleet, Path], None]  # writes into the reports folder (the others' genuine reports are there)
    evidence: str  # web-2's evidence status, or the unattributed file's status
    verdict: str
    wave: dict[str, Any] | None = None  # changes to the wave file
    unattributed: bool = False


def _report(spec: Spec, name: str = "web-2.dsse.json") -> Callable[[Fleet, Path], None]:
    def build(fleet: Fleet, reports: Path) -> None:  # noqa: F811
        place(reports, fleet.report(spec), names=[name])
    return build


def _bytes(change: Callable[[bytes], bytes], name: str = "web-2.dsse.json") -> Callable[[Fleet, Path], None]:
    def build(fleet: Fleet, reports: Path) -> None:  # noqa: F811
        (reports / name).write_bytes(change(fleet.report(good("web-2")).read_bytes()))
    return build


def _both(*builds: Callable[[Fleet, Path], None]) -> Callable[[Fleet, Path], None]:
    def build(fleet: Fleet, reports: Path) -> None:  # noqa: F811
        for step in builds:
            step(fleet, reports)
    return build


def _resigned(change: Callable[[dict[str, Any]], None]) -> Callable[[Fleet, Path], None]:
    """web-2's genuine report, changed and signed again with web-2's own key: what a
    faulty or compromised host can send."""
    def build(fleet: Fleet, reports: Path) -> None:  # noqa: F811
        envelope = json.loads(fleet.report(good("web-2")).read_bytes())
        body = json.loads(base64.b64decode(envelope["payload"]))
        change(body)
        signer = NativeSigner.from_file(fleet.key("web-2")[0], PASSWORD.encode())
        (reports / "web-2.dsse.json").write_bytes(sign_envelope(signer, envelope["payloadType"], canonical_json(body)).to_bytes())
    return build


def _tamper_signature(data: bytes) -> bytes:
    envelope = json.loads(data)
    sig = envelope["signatures"][0]["sig"]
    envelope["signatures"][0]["sig"] = ("A" if sig[0] != "A" else "B") + sig[1:]
    return json.dumps(envelope).encode()


CASES: dict[str, Case] = {
    "another wave": Case(_report(Spec("web-2", nonce="wave-0000previous0000")), "wrong_nonce", "hold"),
    "signed with another host's key": Case(_report(Spec("web-2", key="web-3")), "invalid", "hold"),
    "another closure": Case(_report(Spec("web-2", generation=2)), "wrong_closure", "rollback"),
    "stale": Case(_report(Spec("web-2", at=T - 2 * 3600)), "stale", "hold"),
    "dated in the future": Case(_report(Spec("web-2", at=T + 3600)), "future", "hold"),
    "taken before the activation": Case(_report(Spec("web-2", at=T - 600)), "not_yet_fresh", "hold",
                                        wave={"activated_at": T - 300}),
    "duplicated": Case(_both(_report(good("web-2")), _report(Spec("web-2", at=T - 60), "web-2.again.dsse.json")),
                       "duplicated", "hold"),
    "another machine": Case(_report(good("web-2")), "wrong_host", "hold",
                            wave={"web-2": {"machine_id": "f" * 32}}),
    "tampered signature": Case(_bytes(_tamper_signature), "invalid", "hold"),
    "another host's report under this name": Case(_report(good("web-3")), "missing", "hold"),
    "from a host not in the wave": Case(_report(Spec("intruder"), "intruder.dsse.json"), "unknown_host", "hold",
                                        unattributed=True),
    "truncated": Case(_bytes(lambda data: data[: len(data) // 2]), "unreadable", "hold", unattributed=True),
    "signed by the host, dated without a time zone": Case(
        _resigned(lambda body: body.update(created="2026-11-01T00:00:00")), "invalid", "hold"),
    "signed by the host, one control reported twice": Case(
        _resigned(lambda body: body["assessment"]["results"].append(body["assessment"]["results"][0])), "invalid", "hold"),
    "garbage": Case(_bytes(lambda data: os.urandom(2048), name="web-2.bin"), "unreadable", "hold", unattributed=True),
}


def _wave(fleet: Fleet, path: Path, changes: dict[str, Any] | None) -> Path:  # noqa: F811
    changes = dict(changes or {})
    activated = changes.pop("activated_at", None)
    return fleet.wave(path, HOSTS, activated_at=activated, **changes)


def _decide(fleet: Fleet, tmp_path: Path, case: Case, policy: dict[str, Any] | None = None) -> dict[str, Any]:  # noqa: F811
    reports = tmp_path / "reports"
    others = [h for h in HOSTS if h != "web-2"]
    place(reports, *fleet.reports(*(good(h) for h in others)), names=[f"{h}.dsse.json" for h in others])
    case.build(fleet, reports)
    argv = ["promote", "--wave", str(_wave(fleet, tmp_path / "wave.json", case.wave)), "--reports", str(reports),
            "--nonce", NONCE, "--format", "json"]
    (tmp_path / "policy.json").write_text(json.dumps(lab_policy(policy)))
    argv += ["--policy", str(tmp_path / "policy.json")]
    result = run(*argv, env=ENV)
    assert result.code in (0, 1, 3), result.stderr
    decision = json.loads(result.stdout)
    assert decision["exit_code"] == result.code
    return dict(decision)


def _web2(decision: dict[str, Any]) -> dict[str, Any]:
    return dict(next(h for h in decision["hosts"] if h["name"] == "web-2"))


@pytest.mark.parametrize("name", list(CASES))
def test_each_forgery_or_replay_gets_its_classification_and_never_promotes(fleet: Fleet, tmp_path: Path, name: str) -> None:  # noqa: F811
    case = CASES[name]
    decision = _decide(fleet, tmp_path, case)
    assert decision["verdict"] == case.verdict, decision["reasons"]
    assert decision["verdict"] != "promote"
    web2 = _web2(decision)
    if case.unattributed:
        assert [r["status"] for r in decision["unattributed"]] == [case.evidence]
        assert web2["evidence"] == "missing"
    else:
        assert web2["evidence"] == case.evidence, web2
    assert web2["evidence"] != "valid" and web2["outcome"] in ("hold", "rollback")
    assert decision["summary"]["valid"] == 2  # the genuine reports of web-1 and web-3 only
    blocking = [r for r in decision["reasons"] if r.get("host") == "web-2" or r.get("file")]
    assert blocking, decision["reasons"]  # the decision names what is wrong


def test_the_messages_say_what_was_forged(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    other_key = _web2(_decide(fleet, tmp_path / "key", CASES["signed with another host's key"]))
    assert "does not verify" in other_key["reports"][0]["message"]
    assert "signed with the key of web-3" in other_key["reports"][0]["message"]
    closure = _web2(_decide(fleet, tmp_path / "closure", CASES["another closure"]))
    assert "nixos-system-web-2-2, the wave activated" in closure["findings"][0]["message"]
    replayed = _decide(fleet, tmp_path / "replay", CASES["another host's report under this name"])
    web3 = next(h for h in replayed["hosts"] if h["name"] == "web-3")
    # web-3's own report, copied under web-2's name: it still speaks for web-3 only (same bytes, counted once).
    assert web3["evidence"] == "valid" and len(web3["reports"]) == 2
    future = _web2(_decide(fleet, tmp_path / "future", CASES["dated in the future"]))
    assert "1h after the decision" in future["findings"][0]["message"]


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.evidence not in ("stale", "not_yet_fresh", "missing")])
def test_suspicious_evidence_blocks_even_when_the_share_lets_hosts_go_missing(fleet: Fleet, tmp_path: Path, name: str) -> None:  # noqa: F811
    lenient = {"hosts": {"min_reported": 0.0}}
    decision = _decide(fleet, tmp_path, CASES[name], lenient)
    assert decision["verdict"] != "promote", decision["reasons"]


@pytest.mark.parametrize("name", ["stale", "taken before the activation"])
def test_evidence_that_is_only_old_counts_as_missing_under_the_share(fleet: Fleet, tmp_path: Path, name: str) -> None:  # noqa: F811
    decision = _decide(fleet, tmp_path, CASES[name], {"hosts": {"min_reported": 0.5}})
    assert decision["verdict"] == "promote"
    web2 = _web2(decision)
    assert web2["outcome"] == "tolerated" and web2["evidence"] == CASES[name].evidence
    assert decision["summary"]["valid"] == 2


@pytest.mark.parametrize(("at", "activated", "evidence"), [(T - 600, T - 300, "not_yet_fresh"), (T - 2 * 3600, None, "stale")])
def test_an_old_report_of_the_previous_closure_holds_and_does_not_roll_back(
    fleet: Fleet, tmp_path: Path, at: int, activated: int | None, evidence: str,  # noqa: F811
) -> None:
    """Taken before the activation (or long ago), a report shows the closure the host ran
    then: it says the evidence is not fresh, not that the release failed."""
    case = Case(_report(Spec("web-2", generation=2, at=at)), evidence, "hold",
                wave={"activated_at": activated} if activated else None)
    decision = _decide(fleet, tmp_path, case)
    assert decision["verdict"] == "hold" and _web2(decision)["evidence"] == evidence


def test_the_policy_can_roll_back_on_invalid_evidence(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    decision = _decide(fleet, tmp_path, CASES["signed with another host's key"], {"invalid_evidence": "rollback"})
    assert decision["verdict"] == "rollback"


def test_a_report_of_a_previous_wave_next_to_this_waves_is_set_aside(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    """The folder keeps the previous wave's report: it is named, and does not count."""
    case = Case(_both(_report(good("web-2")), _report(Spec("web-2", nonce="wave-0000previous0000"), "web-2.old.dsse.json")),
                "valid", "promote")
    decision = _decide(fleet, tmp_path, case)
    assert decision["verdict"] == "promote"
    web2 = _web2(decision)
    statuses = {r["file"]: (r["status"], r["message"]) for r in web2["reports"]}
    assert statuses["web-2.old.dsse.json"][0] == "wrong_nonce" and "set aside" in statuses["web-2.old.dsse.json"][1]
    assert web2["report_id"] != next(r["report_id"] for r in web2["reports"] if r["file"] == "web-2.old.dsse.json")


def test_an_unattributed_file_can_be_noted_by_policy_but_never_counts(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    case = Case(_both(_report(good("web-2")), _report(Spec("intruder"), "intruder.dsse.json")), "valid", "promote")
    held = _decide(fleet, tmp_path / "held", case)
    assert held["verdict"] == "hold"
    noted = _decide(fleet, tmp_path / "noted", case, {"unattributed_reports": "note"})
    assert noted["verdict"] == "promote" and noted["summary"]["valid"] == 3
    assert [n["file"] for n in noted["notes"]] == ["intruder.dsse.json"]


def test_hidden_files_and_keys_next_to_reports_are_not_reports(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    def extras(fleet: Fleet, reports: Path) -> None:
        place(reports, fleet.report(good("web-2")), names=["web-2.dsse.json"])
        (reports / ".web-2.dsse.json.part").write_text("half a report")
        shutil.copyfile(fleet.key("web-2")[1], reports / "web-2.pub")
    decision = _decide(fleet, tmp_path, Case(extras, "valid", "promote"))
    assert decision["verdict"] == "promote" and decision["unattributed"] == []


def test_checking_over_worker_processes_gives_the_same_decision(fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """A large wave is checked over forked workers: the decision is the same, byte for byte."""
    from compliance.promote import parallel
    from compliance.promote.session import PromotionGate
    from compliance.promote.wave_decision import decision_json
    from compliance.util import clock

    reports = tmp_path / "reports"
    specs = [good("web-1"), good("web-3"), Spec("web-2", setuid=True), Spec("web-2", nonce="wave-0000previous0000"),
             Spec("web-2", key="web-3"), Spec("web-2", at=T + 3600), Spec("intruder")]
    place(reports, *fleet.reports(*specs), names=[f"{i}.dsse.json" for i in range(len(specs))])
    (reports / "garbage.bin").write_bytes(os.urandom(512))
    gate = PromotionGate.load(_wave(fleet, tmp_path / "wave.json", None), reports, NONCE, None)
    serial = decision_json(gate.decide(clock.now(), processes=1))
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)
    forked = decision_json(gate.decide(clock.now(), processes=2))
    assert forked == serial
    assert b'"verdict":"hold"' in serial and b'"duplicated"' in serial


def test_a_fifo_or_a_device_in_the_folder_is_named_not_read(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    def specials(fleet: Fleet, reports: Path) -> None:
        place(reports, fleet.report(good("web-2")), names=["web-2.dsse.json"])
        os.mkfifo(reports / "pipe.json")
        (reports / "zero.json").symlink_to("/dev/zero")
    decision = _decide(fleet, tmp_path, Case(specials, "valid", "hold"))
    assert {r["file"]: (r["status"], r["message"]) for r in decision["unattributed"]} == {
        "pipe.json": ("unreadable", "not a regular file"), "zero.json": ("unreadable", "not a regular file")}
    assert decision["verdict"] == "hold" and decision["summary"]["valid"] == 3


@pytest.mark.parametrize("results", ["none", "not applicable"])
def test_a_verified_report_that_decides_no_control_holds(fleet: Fleet, tmp_path: Path, results: str) -> None:  # noqa: F811
    """A report signed by the right host, bound and fresh, that shows nothing (a wrong
    profile, a probe run that found nothing to judge) is not evidence that the host is fine."""
    def change(body: dict[str, Any]) -> None:
        checked = body["assessment"]["results"]
        body["assessment"]["results"] = [] if results == "none" else [{**r, "status": "not_applicable"} for r in checked]
    decision = _decide(fleet, tmp_path, Case(_resigned(change), "valid", "hold"))
    web2 = _web2(decision)
    assert (decision["verdict"], web2["evidence"], web2["outcome"]) == ("hold", "valid", "hold")
    assert any("decides no control" in r["message"] for r in decision["reasons"] if r.get("host") == "web-2")
