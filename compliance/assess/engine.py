"""The engine: evaluates the selected controls' checks into results.

It fails closed. A check function that raises, exceeds its time budget, lacks its input
or returns something that is not an :class:`Outcome` gives an ``error`` result with the
reason; nothing but an explicit ``Outcome(PASS)`` is a pass.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from compliance.catalog.selection import SelectedControl, Selection
from compliance.checks import registry
from compliance.checks.registry import Outcome
from compliance.errors import CheckError, CheckTimeout, NotApplicable
from compliance.models.common import Status, combine
from compliance.models.control import CheckKind
from compliance.models.results import CheckResult, ControlResult

DEFAULT_TIMEOUT = 30.0


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt a check that runs too long (main thread only; elsewhere no limit)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(_signum: int, _frame: Any) -> None:
        raise CheckTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _jsonable(value: Any) -> Any:
    """Observed values end up in signed JSON: keep them to JSON types, deterministically."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_jsonable(v) for v in value), key=str)
    return str(value)


def evaluate_check(selected: SelectedControl, kind: CheckKind, function: str, target: Any, timeout: float) -> CheckResult:
    """One check of a selected control against its target, failing closed: a raise, a timeout or a missing input is an error."""
    spec = registry.get(kind, function)

    def result(status: Status, message: str, observed: dict[str, Any] | None = None) -> CheckResult:
        return CheckResult(
            kind=kind,
            function=function,
            status=status,
            message=message,
            observed=_jsonable(observed or {}),
        )

    if spec is None:
        return result(Status.ERROR, f"no {kind.value} check named {function!r}")
    try:
        params = selected.params_for(kind, function)
        with _deadline(timeout):
            outcome = spec.func(target, params)
    except CheckTimeout:
        return result(Status.ERROR, f"timed out after {timeout:g} s")
    except CheckError as exc:
        return result(Status.ERROR, str(exc))
    except NotApplicable as exc:
        return result(Status.NOT_APPLICABLE, str(exc) or "not applicable")
    except Exception as exc:  # fail closed: a defect in a check is an error, not a pass
        return result(Status.ERROR, f"check raised {type(exc).__name__}: {exc}")
    if not isinstance(outcome, Outcome) or outcome.status not in (Status.PASS, Status.FAIL, Status.NOT_APPLICABLE):
        return result(Status.ERROR, f"check returned {outcome!r}, not a decided Outcome")
    return result(outcome.status, outcome.message, outcome.observed)


def evaluate_control(selected: SelectedControl, kind: CheckKind, target: Any, timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    """One control of a kind: its checks' results combined; a control without checks is manual."""
    control = selected.control
    checks = [evaluate_check(selected, kind, c.function, target, timeout) for c in control.checks_of(kind)]
    if not control.checks:
        status, message = Status.MANUAL, "no automated check: needs a manual attestation"
    else:
        status = combine([c.status for c in checks])
        message = next((c.message for c in checks if c.status is status), "")
    remediation = control.remediation.model_dump(mode="json", exclude_none=True) if control.remediation else None
    return ControlResult(
        control_id=control.id,
        title=control.title,
        severity=control.severity,
        status=status,
        message=message,
        checks=checks,
        clauses={fw: list(refs) for fw, refs in control.clauses.items()},
        citations=control.resolved_cites(),
        params=selected.params,
        param_sources=selected.sources,
        remediation=remediation,
    )


def evaluate(selection: Selection, kind: CheckKind, target: Any, timeout: float = DEFAULT_TIMEOUT) -> list[ControlResult]:
    """Every selected control of a kind against the target."""
    return [evaluate_control(sc, kind, target, timeout) for sc in selection.controls]
