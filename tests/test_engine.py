"""The engine fails closed: only an explicit pass is a pass."""

from __future__ import annotations

import time
from typing import Annotated

import pytest

from compliance.assess import engine
from compliance.catalog.selection import SelectedControl
from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, passed, predicate
from compliance.errors import CheckError, NotApplicable
from compliance.models.common import Severity, Status, combine
from compliance.models.control import Check, CheckKind, Control
from compliance.models.params import LOWER, Params


class DelayParams(Params):
    seconds: Annotated[float, LOWER] = 0.0


@predicate("test_engine_raises")
def _raises(subject: Subject, params: Params) -> Outcome:
    raise KeyError("boom")


@predicate("test_engine_check_error")
def _check_error(subject: Subject, params: Params) -> Outcome:
    raise CheckError("input X is missing")


@predicate("test_engine_not_applicable")
def _not_applicable(subject: Subject, params: Params) -> Outcome:
    raise NotApplicable("no SSH server")


@predicate("test_engine_returns_bool")
def _returns_bool(subject: Subject, params: Params) -> Outcome:
    return True  # type: ignore[return-value]


@predicate("test_engine_slow", params=DelayParams)
def _slow(subject: Subject, params: DelayParams) -> Outcome:
    time.sleep(params.seconds)
    return passed("finally")


@predicate("test_engine_passes")
def _passes(subject: Subject, params: Params) -> Outcome:
    return passed("fine", answer=42, items={"b", "a"})


def _selected(*functions: str, params: dict[str, object] | None = None) -> SelectedControl:
    control = Control(
        id="TT-01", title="t", severity=Severity.HIGH, rationale="r",
        checks=[Check(kind=CheckKind.STATIC, function=f) for f in functions],
    )
    return SelectedControl(control, dict(params or {}), {})


@pytest.mark.parametrize(("function", "status", "message"), [
    ("test_engine_raises", Status.ERROR, "check raised KeyError: 'boom'"),
    ("test_engine_check_error", Status.ERROR, "input X is missing"),
    ("test_engine_not_applicable", Status.NOT_APPLICABLE, "no SSH server"),
    ("test_engine_returns_bool", Status.ERROR, "check returned True, not a decided Outcome"),
    ("test_engine_passes", Status.PASS, "fine"),
    ("no_such_function", Status.ERROR, "no static check named 'no_such_function'"),
])
def test_outcomes(function: str, status: Status, message: str) -> None:
    result = engine.evaluate_control(_selected(function), CheckKind.STATIC, Subject())
    assert (result.status, result.message) == (status, message)


def test_a_check_that_runs_too_long_is_an_error() -> None:
    selected = _selected("test_engine_slow", params={"seconds": 5})
    start = time.monotonic()
    result = engine.evaluate_control(selected, CheckKind.STATIC, Subject(), timeout=0.2)
    assert result.status is Status.ERROR and result.message == "timed out after 0.2 s"
    assert time.monotonic() - start < 4  # the check was interrupted, not waited for


def test_observed_values_become_json() -> None:
    result = engine.evaluate_control(_selected("test_engine_passes"), CheckKind.STATIC, Subject())
    assert result.checks[0].observed == {"answer": 42, "items": ["a", "b"]}


def test_one_failing_check_makes_the_control_fail() -> None:
    assert combine([Status.PASS, Status.FAIL, Status.ERROR]) is Status.FAIL
    assert combine([Status.PASS, Status.ERROR]) is Status.ERROR
    assert combine([Status.PASS, Status.NOT_APPLICABLE]) is Status.PASS
    assert combine([]) is Status.ERROR


def test_a_control_without_checks_needs_an_attestation() -> None:
    result = engine.evaluate_control(_selected(), CheckKind.STATIC, Subject())
    assert result.status is Status.MANUAL
