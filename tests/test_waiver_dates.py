"""Waivers and vulnerability exceptions are dated with dates, never numbers, and apply
only between their creation and their expiry as seen at the assessment time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from compliance.assess.gate_decision import _waiver_problem
from compliance.errors import InputError
from compliance.inputs.scanners import load_vulnerability_reports
from compliance.models.policy import Policy, Waiver
from tests.support.cli import one_line_error, run
from tests.support.inputs import gate_args, write_release

NOW = datetime(2026, 11, 1, tzinfo=UTC)  # the tests' SOURCE_DATE_EPOCH


def _waiver(**overrides: Any) -> dict[str, Any]:
    return {"id": "W-1", "control": "IA-02", "reason": "migration", "approver": "ciso", "risk": "low",
            "created": "2026-10-01", "expires": "2026-12-31", **overrides}


@pytest.mark.parametrize("value", [5, 5.5, True, "5", "1793491200", "2026-13-01", "next week", "12:00:00"])
@pytest.mark.parametrize("field", ["created", "expires"])
def test_a_waiver_date_that_is_not_a_date_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Waiver.model_validate(_waiver(**{field: value}))


@pytest.mark.parametrize(("created", "expires", "start", "end"), [
    ("2026-10-01", "2026-12-31", datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("2026-10-01 08:00:00", "2026-12-31T12:00:00Z", datetime(2026, 10, 1, 8, tzinfo=UTC), datetime(2026, 12, 31, 12, tzinfo=UTC)),
])
def test_waiver_dates_are_utc_moments(created: str, expires: str, start: datetime, end: datetime) -> None:
    waiver = Waiver.model_validate(_waiver(created=created, expires=expires))
    assert (waiver.created, waiver.expires) == (start, end)


def test_a_waiver_created_after_the_assessment_does_not_waive() -> None:
    later = Waiver.model_validate(_waiver(created="2026-11-02"))
    assert _waiver_problem(later, Policy(), NOW) == "waiver W-1 is not valid before 2026-11-02T00:00:00Z"
    assert _waiver_problem(Waiver.model_validate(_waiver()), Policy(), NOW) is None


def test_an_exception_date_that_is_a_number_is_an_input_error() -> None:
    toml = (b'[[vulnerability_exceptions]]\nid = "EXC-1"\nvulnerability = "CVE-2099-0001"\n'
            b'created = 2026-10-01\nexpires = 5\n')
    with pytest.raises(InputError, match=r"exceptions\.toml: vulnerability_exceptions\.0\.expires: .*expected a date"):
        load_vulnerability_reports([("exceptions.toml", toml)])
    as_json = json.dumps({"vulnerability_exceptions": [{"id": "EXC-1", "vulnerability": "CVE-2099-0001", "created": 1}]})
    with pytest.raises(InputError, match=r"exceptions\.json: vulnerability_exceptions\.0\.created: .*expected a date"):
        load_vulnerability_reports([("exceptions.json", as_json.encode())])


@pytest.mark.parametrize(("option", "name", "content"), [
    ("--waivers", "waivers.toml", '[[waivers]]\nid = "W1"\ncontrol = "IA-02"\nreason = "x"\nrisk = "low"\n'
                                  'created = 2026-01-01\nexpires = 5\n'),
    ("--vulns", "exceptions.toml", '[[vulnerability_exceptions]]\nid = "EXC-1"\nvulnerability = "CVE-2099-0001"\nexpires = 5\n'),
])
def test_a_numeric_date_stops_the_gate_naming_the_file(tmp_path: Path, option: str, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = run(*gate_args(write_release(tmp_path / "release")), option, str(path))
    line = one_line_error(result)
    assert result.code == 2
    assert line.startswith(f"compliance: {path}: ") and ".expires: " in line and "expected a date" in line, line
