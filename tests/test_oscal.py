"""OSCAL assessment-results: valid against NIST's official 1.1.2 and 1.1.3 JSON Schemas
(validated with jsonschema-rs, whose regex engine supports the schemas' \\p{..} classes),
fail-closed status mapping, deterministic output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from compliance import formats
from compliance.models.common import Status
from compliance.models.results import GateReport, WaiverApplied
from compliance.runs.gate_run import GateOptions, run_gate
from tests.support.cli import run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "web"
VERSIONS = ("1.1.2", "1.1.3")


@pytest.fixture(scope="module")
def validators(shared_data: Path) -> dict[str, Any]:
    return {
        version: jsonschema_rs.validator_for(
            json.loads((shared_data / "schemas" / f"oscal_assessment-results_schema-{version}.json").read_text()), validate_formats=True
        )
        for version in VERSIONS
    }


@pytest.fixture(scope="module")
def example_report() -> GateReport:
    if not EXAMPLE.is_dir():
        pytest.skip("examples/web is not present")
    e = EXAMPLE
    return run_gate(GateOptions(
        closure=str(e / "closure.json"), sbom=str(e / "sbom.cdx.json"), facts=str(e / "facts.json"), flake_lock=str(e / "flake.lock"),
        kernel_config=str(e / "kernel.config"), policy=str(e / "policy.toml"), waivers=str(e / "waivers.toml"),
    )).report


def every_status(report: GateReport) -> GateReport:
    """The example report with one control in each status (a waived one with its waiver)."""
    results = list(report.assessment.results)
    statuses = list(Status)
    assert len(results) >= len(statuses)
    for index, status in enumerate(statuses):
        waiver = WaiverApplied(id="W-1", reason="vendor fix due in the next release", approver="ciso@example.org", risk="low",
                               expires=datetime(2027, 1, 1, tzinfo=UTC), covered_status=Status.FAIL) if status is Status.WAIVED else None
        results[index] = results[index].model_copy(update={"status": status, "waiver": waiver, "message": f"  {status.value}\nwith a line break  "})
    return report.model_copy(update={"assessment": report.assessment.model_copy(update={"results": results})})


def findings(doc: dict[str, Any], kind: str = "objective-id") -> dict[str, dict[str, Any]]:
    """Control findings (objective-id) or clause findings (statement-id), by target id."""
    return {f["target"]["target-id"]: f for f in doc["assessment-results"]["results"][0]["findings"] if f["target"]["type"] == kind}


def test_clause_findings_say_satisfied_only_for_a_satisfied_clause(example_report: GateReport) -> None:
    doc = json.loads(formats.render("oscal", example_report))
    clauses = findings(doc, "statement-id")
    recorded = example_report.assessment.clause_standings or []
    assert len(clauses) == len(recorded) > 0
    for row in recorded:
        finding = clauses[_clause_token(row.framework.value, row.clause)]
        props = {p["name"]: p["value"] for p in finding["props"] if p["name"] != "citation-scope"}
        assert props["clause-standing"] == row.standing.value
        assert finding["target"]["status"]["state"] == ("satisfied" if row.standing.value == "satisfied" else "not-satisfied")
        for cite in row.citations:
            assert f"scope {cite.scope.value}: {cite.evidences}" in finding["remarks"]
    r59 = clauses[_clause_token("anssi", "R59")]
    assert r59["target"]["status"]["state"] == "not-satisfied" and "IA-08" in r59["target"]["status"]["remarks"]


def _clause_token(framework: str, clause: str) -> str:
    import re

    return re.sub(r"[^\w.\-]", "_", f"{framework}:{clause}")


def test_example_release_validates_against_the_official_schemas(example_report: GateReport, validators: dict[str, Any]) -> None:
    doc = json.loads(formats.render("oscal", example_report))
    for version, validator in validators.items():
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == [], (version, errors[:5])


def test_every_status_validates_and_maps_fail_closed(example_report: GateReport, validators: dict[str, Any]) -> None:
    report = every_status(example_report)
    doc = json.loads(formats.render("oscal", report))
    for validator in validators.values():
        assert [e.message for e in validator.iter_errors(doc)] == []
    states = {r.control_id: r.status for r in report.assessment.results}
    for control, finding in findings(doc).items():
        status = states[control]
        state = finding["target"]["status"]["state"]
        assert state == ("satisfied" if status in (Status.PASS, Status.NOT_APPLICABLE) else "not-satisfied"), (control, status)
        assert {"name": "status", "ns": "https://compliance-gate.dev/ns/oscal", "value": status.value} in finding["props"]
    waived = next(f for c, f in findings(doc).items() if states[c] is Status.WAIVED)
    assert "Waived by W-1 until 2027-01-01T00:00:00Z" in waived["target"]["status"]["remarks"]


def test_observations_carry_the_subject_and_observed_values(example_report: GateReport) -> None:
    doc = json.loads(formats.render("oscal", example_report))["assessment-results"]
    result = doc["results"][0]
    item = result["local-definitions"]["inventory-items"][0]
    subject = example_report.assessment.subject
    assert {"name": "store-path", "ns": "https://compliance-gate.dev/ns/oscal", "value": subject.store_path} in item["props"]
    observations = {o["uuid"]: o for o in result["observations"]}
    for finding in result["findings"]:
        if finding["target"]["type"] == "statement-id" and "related-observations" not in finding:
            continue  # a clause no control of the assessment supports
        observation = observations[finding["related-observations"][0]["observation-uuid"]]
        assert observation["subjects"] == [{"subject-uuid": item["uuid"], "type": "inventory-item"}]
    assert any("observed" in o.get("remarks", "") for o in observations.values())
    inputs = {r["rlinks"][0]["hashes"][0]["value"] for r in doc["back-matter"]["resources"]}
    assert inputs == {i.sha256 for i in example_report.assessment.inputs}
    reviewed = result["reviewed-controls"]["control-selections"][0]["include-controls"]
    assert sorted(c["control-id"] for c in reviewed) == sorted(r.control_id for r in example_report.assessment.results)


def test_rendering_is_deterministic(example_report: GateReport) -> None:
    assert formats.render("oscal", example_report) == formats.render("oscal", example_report)


def test_the_validator_rejects_what_the_schema_forbids(example_report: GateReport, validators: dict[str, Any]) -> None:
    """The validation above can fail: a control id that is not an NCName token is caught."""
    doc = json.loads(formats.render("oscal", example_report))
    doc["assessment-results"]["results"][0]["findings"][0]["target"]["target-id"] = "1 not a token"
    assert not validators["1.1.3"].is_valid(doc)


def test_gate_writes_oscal_as_a_format(tmp_path: Path) -> None:
    if not EXAMPLE.is_dir():
        pytest.skip("examples/web is not present")
    out = tmp_path / "ar.json"
    result = run("gate", "--closure", str(EXAMPLE / "closure.json"), "--facts", str(EXAMPLE / "facts.json"), "-o", f"oscal={out}")
    assert result.code in (0, 1), result.stderr
    assert json.loads(out.read_text())["assessment-results"]["metadata"]["oscal-version"] == "1.1.3"
