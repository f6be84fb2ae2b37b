"""``compliance gate`` end to end through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bench.generate import FACTS
from compliance.models.common import Status
from compliance.models.results import GateReport
from tests.support.cli import one_line_error, run
from tests.support.inputs import gate_args, with_option, write_release


def _said(text: str) -> str:
    """The text output with its wrapping undone (long messages wrap to the width)."""
    return " ".join(text.split())


@pytest.fixture
def release(tmp_path: Path) -> dict[str, Path]:
    return write_release(tmp_path / "release")


def _password_login_release(tmp_path: Path) -> dict[str, Path]:
    facts = with_option(FACTS, ["services", "openssh", "settings", "PasswordAuthentication"], True)
    return write_release(tmp_path / "bad", facts=facts)


def test_a_compliant_release_passes(release: dict[str, Path]) -> None:
    result = run(*gate_args(release))
    assert result.code == 0, result.stdout + result.stderr
    assert "GATE: PASS" in result.stdout
    assert "FAIL " not in result.stdout


def test_a_blocking_failure_fails_and_names_the_control(tmp_path: Path) -> None:
    result = run(*gate_args(_password_login_release(tmp_path)))
    assert result.code == 1
    assert "GATE: FAIL (1 blocking)" in result.stdout
    assert "IA-02 (high fail): sshd: PasswordAuthentication is 'yes', expected no" in result.stdout


def test_policy_decides_which_severities_block(tmp_path: Path) -> None:
    files = _password_login_release(tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text('block_severities = ["critical"]\n')
    result = run(*gate_args(files), "--policy", str(policy))
    assert result.code == 0, result.stdout
    assert "GATE: PASS" in result.stdout and "FAIL " in result.stdout


def _waiver(tmp_path: Path, expires: str, approver: str = "ciso@example.org") -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(
        "[[waivers]]\n"
        'id = "W-7"\ncontrol = "IA-02"\nreason = "bastion migrates to keys in sprint 48"\n'
        f'approver = "{approver}"\nrisk = "medium"\ncreated = 2026-10-01\nexpires = {expires}\n'
    )
    return path


def test_a_valid_waiver_waives(tmp_path: Path) -> None:
    files = _password_login_release(tmp_path)
    out = tmp_path / "r.json"
    result = run(*gate_args(files), "--waivers", str(_waiver(tmp_path, "2026-12-31")), "-o", f"json={out}")
    assert result.code == 0, result.stdout
    report = GateReport.model_validate_json(out.read_bytes())
    ia02 = next(r for r in report.assessment.results if r.control_id == "IA-02")
    assert ia02.status is Status.WAIVED
    assert ia02.waiver is not None and ia02.waiver.approver == "ciso@example.org" and ia02.waiver.covered_status is Status.FAIL


@pytest.mark.parametrize(("expires", "approver", "why"), [
    ("2026-10-15", "ciso@example.org", "waiver W-7 expired on 2026-10-15T23:59:59Z"),
    ("2026-12-31", "", "waiver W-7 has no approver"),
])
def test_an_expired_or_unapproved_waiver_does_not_waive(tmp_path: Path, expires: str, approver: str, why: str) -> None:
    files = _password_login_release(tmp_path)
    result = run(*gate_args(files), "--waivers", str(_waiver(tmp_path, expires, approver)))
    assert result.code == 1
    assert f"note: {why}: it does not waive" in _said(result.stdout)


def test_an_undecidable_check_is_an_error_that_blocks(tmp_path: Path) -> None:
    facts = with_option(FACTS, ["networking", "firewall", "allowedTCPPorts"], "22")
    result = run(*gate_args(write_release(tmp_path / "r", facts=facts)))
    assert result.code == 1
    assert "NW-01 (high error): networking.firewall.allowedTCPPorts is not a list of port numbers" in _said(result.stdout)


def test_missing_facts_fail_closed(release: dict[str, Path]) -> None:
    result = run("gate", "--closure", str(release["closure"]), "--sbom", str(release["sbom"]))
    assert result.code == 1
    assert "needs NixOS configuration facts" in _said(result.stdout)


def test_nothing_to_assess_is_a_usage_error() -> None:
    result = run("gate")
    assert result.code == 2
    assert "nothing to assess" in one_line_error(result)


def test_several_formats_at_once(release: dict[str, Path], tmp_path: Path, shared_data: Path) -> None:
    outs = {fmt: tmp_path / f"out.{fmt}" for fmt in ("json", "junit", "sarif", "markdown")}
    args = [f"-o{fmt}={path}" for fmt, path in outs.items()]
    result = run(*gate_args(release), "--format", "text", *args)
    assert result.code == 0
    assert result.stdout.startswith("Subject:")
    report = GateReport.model_validate_json(outs["json"].read_bytes())
    assert report.decision.passed and len(report.assessment.results) >= 12
    markdown = outs["markdown"].read_text()
    assert markdown.startswith("## Compliance gate: PASS") and "| `IA-02` |" in markdown
    _validate_junit(outs["junit"], shared_data)
    _validate_sarif(outs["sarif"], shared_data)


def test_failures_in_junit_and_sarif(tmp_path: Path, shared_data: Path) -> None:
    files = _password_login_release(tmp_path)
    junit, sarif = tmp_path / "j.xml", tmp_path / "s.sarif"
    result = run(*gate_args(files), "-o", f"junit={junit}", "-o", f"sarif={sarif}")
    assert result.code == 1
    _validate_junit(junit, shared_data)
    _validate_sarif(sarif, shared_data)
    assert 'failures="1"' in junit.read_text() and "<failure message=\"sshd: PasswordAuthentication" in junit.read_text()
    doc = json.loads(sarif.read_text())
    failing = [r for r in doc["runs"][0]["results"] if r["kind"] == "fail"]
    assert [r["ruleId"] for r in failing] == ["IA-02"] and failing[0]["level"] == "error"


def _validate_junit(path: Path, shared_data: Path) -> None:
    from lxml import etree

    doc = etree.parse(str(path))
    for xsd in ("windyroad-JUnit.xsd", "jenkins-xunit-junit-10.xsd"):
        schema = etree.XMLSchema(etree.parse(str(shared_data / "schemas" / "junit" / xsd)))
        assert schema.validate(doc), f"{xsd}: {schema.error_log}"


def _validate_sarif(path: Path, shared_data: Path) -> None:
    schema = json.loads((shared_data / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(json.loads(path.read_text()))


def test_output_binding_errors_are_usage_errors(release: dict[str, Path], tmp_path: Path) -> None:
    two = run(*gate_args(release), "--format", "json", "--format", "junit")
    assert two.code == 2 and "several formats on standard output" in one_line_error(two)
    bare = run(*gate_args(release), "-o", str(tmp_path / "x"))
    assert bare.code == 2 and "-o PATH needs exactly one --format" in one_line_error(bare)
    unknown = run(*gate_args(release), "--format", "pdfx")
    assert unknown.code == 2 and "unknown format" in one_line_error(unknown)


def test_bare_output_takes_the_single_format(release: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    result = run(*gate_args(release), "--format", "markdown", "-o", str(out))
    assert result.code == 0 and result.stdout == ""
    assert out.read_text().startswith("## Compliance gate: PASS")


def test_same_inputs_same_bytes(release: dict[str, Path], tmp_path: Path) -> None:
    outputs = []
    for index in range(2):
        out = tmp_path / f"r{index}.json"
        assert run(*gate_args(release), "-o", f"json={out}").code == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
