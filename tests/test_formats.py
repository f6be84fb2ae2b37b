"""The CI formats rendered from one report with every status: what each says about a
control that could not decide, and that they follow their specifications."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from compliance import formats
from compliance.models.common import Status
from tests.support.report_sample import sample_report


def _sarif_results() -> dict[str, dict[str, Any]]:
    doc = json.loads(formats.render("sarif", sample_report()))
    return {r["properties"]["status"]: r for r in doc["runs"][0]["results"]}


def test_sarif_has_results_only_for_findings() -> None:
    """Code scanning turns each result into an alert: failures, errors and waived failures
    (suppressed) are results, each a "fail" with a level; nothing else is."""
    results = _sarif_results()
    assert set(results) == {Status.FAIL.value, Status.ERROR.value, Status.WAIVED.value}
    for status, result in results.items():
        assert result["kind"] == "fail" and result["level"] in ("error", "warning", "note"), status
    assert "suppressions" in results["waived"] and "suppressions" not in results["fail"]


def test_sarif_shows_an_undecided_control_as_an_error() -> None:
    error = _sarif_results()["error"]
    assert (error["kind"], error["level"]) == ("fail", "error")
    assert error["message"]["text"].startswith("error: ")


def test_sarif_validates(shared_data: Path) -> None:
    schema = json.loads((shared_data / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(json.loads(formats.render("sarif", sample_report())))


def test_junit_stays_well_formed_whatever_a_message_quotes() -> None:
    from xml.etree import ElementTree

    report = sample_report()
    results = list(report.assessment.results)
    odd = "value \ufffe\uffff\x01\x1b[31m & <tag> \"quoted\"\nnext line"
    results[0] = results[0].model_copy(update={"status": Status.FAIL, "message": odd, "notes": [odd]})
    report = report.model_copy(update={"assessment": report.assessment.model_copy(update={"results": results})})
    root = ElementTree.fromstring(formats.render("junit", report))
    failure = next(case.find("failure") for case in root.iter("testcase") if case.get("name", "").startswith(results[0].control_id))
    assert failure is not None
    assert failure.get("message") == 'value [31m & <tag> "quoted"next line'
    assert (failure.text or "").startswith('value [31m & <tag> "quoted"\nnext line')
