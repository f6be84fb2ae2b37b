"""JUnit follows the verdict: only blocking findings fail the suite (``failures`` +
``errors`` = the number of blocking findings); failures the policy does not block are
reported as skipped test cases saying so, and in the suite's properties and output;
``junit-strict`` is the strict reading. Both JUnit schemas accept every reading."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from compliance import formats
from compliance.models.common import Status
from compliance.models.results import GateReport
from compliance.runs.gate_run import GateOptions, run_gate
from tests.support.cli import ROOT

EX = ROOT / "examples" / "web"


def _example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, policy: str | None = None, waivers: bool = True) -> GateReport:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1729814400")
    policy_file = None
    if policy is not None:
        policy_file = tmp_path / "policy.toml"
        policy_file.write_text(policy)
    return run_gate(GateOptions(
        profiles=["nis2-important", "anssi-intermediary"], closure=str(EX / "closure.json"), sbom=str(EX / "sbom.cdx.json"),
        facts=str(EX / "facts.json"), flake_lock=str(EX / "flake.lock"), kernel_config=str(EX / "kernel.config"),
        vulns=[str(EX / "grype.json"), str(EX / "vex.openvex.json")],
        policy=str(policy_file) if policy_file else str(EX / "policy.toml"), waivers=str(EX / "waivers.toml") if waivers else None,
    )).report


def _parse(data: bytes, shared_data: Path) -> etree._Element:
    doc = etree.fromstring(data)
    for xsd in ("windyroad-JUnit.xsd", "jenkins-xunit-junit-10.xsd"):
        schema = etree.XMLSchema(etree.parse(str(shared_data / "schemas" / "junit" / xsd)))
        assert schema.validate(doc), f"{xsd}: {schema.error_log}"
    return doc


def _case(doc: etree._Element, control: str) -> etree._Element:
    [case] = [c for c in doc.iter("testcase") if c.get("name", "").startswith(control + " ")]
    return case


def test_a_passing_gate_has_no_failing_test_case(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_data: Path) -> None:
    report = _example(monkeypatch, tmp_path)
    assert report.decision.passed and not report.decision.blocking
    doc = _parse(formats.render("junit", report), shared_data)
    assert (doc.get("failures"), doc.get("errors")) == ("0", "0")
    assert not list(doc.iter("failure")) and not list(doc.iter("error"))
    # The two medium failures are reported, as not blocking, not hidden.
    for control in ("HK-01", "HK-02"):
        [skipped] = _case(doc, control)
        assert skipped.tag == "skipped" and skipped.get("message", "").startswith("fail, not blocking under the policy (medium): ")
    props = {p.get("value") for p in doc.iter("property") if p.get("name") == "not-blocking"}
    assert len(props) == 3 and all(v.startswith(("HK-01: fail, not blocking", "HK-02: fail, not blocking", "SC-14: fail, not blocking")) for v in props)
    out = doc.find("system-out")
    assert out is not None and out.text is not None and "not blocking: HK-01: fail" in out.text
    assert "verdict: PASS: 3 failures and 5 manual reviews below the blocking threshold" in out.text
    assert doc.get("skipped") == str(3 + 1 + 5)  # 3 not blocking, 1 waived, 5 manual


def test_failures_equal_the_blocking_findings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_data: Path) -> None:
    report = _example(monkeypatch, tmp_path, waivers=False)  # IA-08 (high) fails and blocks
    blocking = {r.control_id for r in report.decision.blocking}
    assert blocking == {"IA-08"}
    doc = _parse(formats.render("junit", report), shared_data)
    assert int(doc.get("failures", "")) + int(doc.get("errors", "")) == len(report.decision.blocking) == 1
    [failure] = _case(doc, "IA-08")
    assert failure.tag == "failure" and failure.get("type") == "high" and "deploy" in failure.get("message", "")


def test_a_blocking_error_is_an_error_and_a_reason_without_control_a_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_data: Path) -> None:
    report = _example(monkeypatch, tmp_path, policy='block_severities = ["critical", "high", "medium"]\nmin_decided = 0.9\n')
    reasons = report.decision.blocking
    assert {r.control_id for r in reasons} == {"HK-01", "HK-02", "SC-14", None}
    doc = _parse(formats.render("junit", report), shared_data)
    assert doc.get("failures") == "4" and doc.get("errors") == "0"
    [policy_case] = [c for c in doc.iter("testcase") if c.get("classname") == "compliance.policy"]
    assert policy_case.get("name", "").startswith("gate policy: only 29 of 34 controls reached a decision")


def test_a_non_blocking_error_does_not_fail_the_suite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_data: Path) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1729814400")
    (tmp_path / "p.toml").write_text("errors_block = false\n")
    report = run_gate(GateOptions(profiles=["nis2-important"], closure=str(EX / "closure.json"), facts=str(EX / "facts.json"),
                                  flake_lock=str(EX / "flake.lock"), policy=str(tmp_path / "p.toml"))).report
    errored = [r.control_id for r in report.assessment.results if r.status is Status.ERROR]
    assert "SC-02" in errored  # no vulnerability report: cannot decide
    doc = _parse(formats.render("junit", report), shared_data)
    [skipped] = _case(doc, "SC-02")
    assert skipped.tag == "skipped" and skipped.get("message", "").startswith("error, not blocking under the policy (critical)")
    assert doc.get("errors") == "0"
    strict = _parse(formats.render("junit-strict", report), shared_data)
    assert strict.get("errors") == str(len(errored))


def test_the_strict_reading_fails_every_failed_control(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_data: Path) -> None:
    report = _example(monkeypatch, tmp_path)
    doc = _parse(formats.render("junit-strict", report), shared_data)
    assert doc.get("failures") == "3"
    assert {c.get("name", "").split()[0] for c in doc.iter("testcase") if c.find("failure") is not None} == {"HK-01", "HK-02", "SC-14"}
    assert [p.get("value") for p in doc.iter("property") if p.get("name") == "reading"] == ["strict"]
