"""What stands between an assessment and each clause of a framework, and what to do.

Coverage (:mod:`compliance.catalog.clause_coverage`) says what the catalog could cover; an assessment
says what a release actually showed. For every clause this module weighs the results of
the controls that support it and says, control by control, what to do: enable a control
the profiles did not select, run the probe for a runtime control, fix a failure, give the
input an errored check lacked, fix a waived failure before the waiver ends, or attest a
clause no machine checks. A clause stands ``covered`` only when a supporting control
passed and none failed or errored; a failing control is a gap even if another passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compliance.catalog.clause_coverage import framework_of, supporting_controls
from compliance.catalog.loader import Catalog
from compliance.catalog.selection import select
from compliance.catalog.standing import standings_of
from compliance.errors import InputError
from compliance.models.common import Status
from compliance.models.control import CheckKind, Control
from compliance.models.frameworks import Clause, Framework
from compliance.models.results import (
    Assessment,
    ClauseResult,
    ClauseStanding,
    ControlResult,
    GateReport,
)
from compliance.util.clock import isoformat
from compliance.util.fsutil import read_bytes
from compliance.util.validation import format_validation_error


class Action(StrEnum):
    NONE = "none"  # passed, or does not apply
    ENABLE = "enable"  # in the catalog, not selected by the assessment's profiles
    PROBE = "probe"  # a runtime control: checked on hosts by 'compliance probe'
    FIX = "fix"  # failed: change the configuration
    FIX_INPUT = "fix-input"  # errored: the check lacked or could not read its input
    WAIVED = "waived"  # failing under a waiver: fix before it ends
    ATTEST = "attest"  # no machine check: sign an attestation


@dataclass(frozen=True)
class Advice:
    control_id: str | None  # None: about the clause itself
    status: Status | None  # None: the control is not in the assessment
    action: Action
    detail: str

    def to_jsonable(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"action": self.action.value, "detail": self.detail}
        if self.control_id is not None:
            doc["control"] = self.control_id
        if self.status is not None:
            doc["status"] = self.status.value
        return doc


@dataclass(frozen=True)
class ClauseGap:
    clause: Clause
    result: ClauseResult  # the standing, its reason and the citations that decided it
    advice: tuple[Advice, ...]

    @property
    def standing(self) -> ClauseStanding:
        return self.result.standing

    @property
    def attestations(self) -> tuple[str, ...]:
        """Valid attestations recorded in the assessment that answer the clause."""
        return tuple(self.result.attestations)

    @property
    def is_gap(self) -> bool:
        return not self.standing.shown

    def to_jsonable(self) -> dict[str, Any]:
        return {
            "clause": self.clause.id,
            "title": self.clause.title,
            "standing": self.standing.value,
            "reason": self.result.reason,
            "citations": [c.to_jsonable() for c in self.result.citations],
            "attestations": list(self.attestations),
            "advice": [a.to_jsonable() for a in self.advice],
        }


@dataclass(frozen=True)
class FrameworkGaps:
    framework: Framework
    clauses: tuple[ClauseGap, ...]
    notes: tuple[str, ...]

    def count(self, standing: ClauseStanding) -> int:
        return sum(1 for row in self.clauses if row.standing is standing)

    def to_jsonable(self) -> dict[str, Any]:
        return {
            "framework": self.framework.id.value,
            "title": self.framework.title,
            "counts": {s.value: self.count(s) for s in ClauseStanding},
            "notes": list(self.notes),
            "clauses": [row.to_jsonable() for row in self.clauses],
        }


def read_results(path: str | Path) -> GateReport:
    """A results.json written by ``compliance gate -o json=F``."""
    data = read_bytes(path, what="results file")
    try:
        return GateReport.model_validate_json(data)
    except ValidationError as exc:
        raise InputError(path, f"not a results file of 'compliance gate -o json=F': {format_validation_error(exc)}") from None


def framework_gaps(catalog: Catalog, framework: str, report: GateReport) -> FrameworkGaps:
    fw = framework_of(catalog, framework)
    assessment = report.assessment
    results = {r.control_id: r for r in assessment.results}
    selectors = _profiles_selecting(catalog)
    supports = supporting_controls(fw, catalog.controls.values())
    standings = {row.clause: row for row in standings_of(catalog, fw.id, assessment) or []}
    rows = []
    for clause in fw.clauses:
        result = standings[clause.id]
        advice = [_advise(control, results.get(control.id), assessment, selectors) for control in supports[clause.id]]
        _, rejected = _attestations_for(fw, clause, assessment)
        advice.extend(rejected)
        if not result.standing.shown and not supports[clause.id] and not rejected and not result.attestations:
            advice.append(Advice(None, None, Action.ATTEST, _unsupported(clause)))
        rows.append(ClauseGap(clause, result, tuple(advice)))
    return FrameworkGaps(fw, tuple(rows), tuple(_notes(catalog, fw, assessment)))


def _unsupported(clause: Clause) -> str:
    if clause.machine_checkable is False:
        return "organisational: attest it ('compliance attest sign')"
    return "no control of the catalog supports it yet: attest it ('compliance attest sign') or add a control"


def _profiles_selecting(catalog: Catalog) -> dict[str, list[str]]:
    """Control id → the profiles of the catalog that select it."""
    by_control: dict[str, list[str]] = {}
    for pid in sorted(catalog.profiles):
        for selected in select(catalog, [pid]).controls:
            by_control.setdefault(selected.control.id, []).append(pid)
    return by_control


def _advise(control: Control, result: ControlResult | None, assessment: Assessment, selectors: dict[str, list[str]]) -> Advice:
    if result is None:
        return _not_assessed(control, assessment, selectors)
    status = result.status
    if status is Status.PASS:
        if control.checks_of(assessment.mode) != control.checks:
            return Advice(control.id, status, Action.PROBE, f"passed; {_other_mode(assessment.mode)} for its other checks")
        return Advice(control.id, status, Action.NONE, "passed")
    if status is Status.NOT_APPLICABLE:
        return Advice(control.id, status, Action.NONE, f"does not apply to this subject: {result.message}")
    if status is Status.FAIL:
        return Advice(control.id, status, Action.FIX, f"failed: {result.message}{_remedy(control)}")
    if status is Status.ERROR:
        return Advice(control.id, status, Action.FIX_INPUT, f"could not decide: {result.message}")
    if status is Status.WAIVED:
        waiver = result.waiver
        until = f"waiver {waiver.id} until {isoformat(waiver.expires)}" if waiver else "a waiver"
        return Advice(control.id, status, Action.WAIVED, f"fails under {until}: fix it before then{_remedy(control)}")
    return Advice(control.id, status, Action.ATTEST, "no machine check: attest the clauses it supports ('compliance attest sign')")


def _not_assessed(control: Control, assessment: Assessment, selectors: dict[str, list[str]]) -> Advice:
    if control.checks and not control.checks_of(assessment.mode):
        return Advice(control.id, None, Action.PROBE, _other_mode(assessment.mode))
    chosen_by = ", ".join(selectors.get(control.id, [])) or "no profile (select it by id)"
    profiles = ", ".join(assessment.profiles) or "none"
    return Advice(control.id, None, Action.ENABLE, f"not selected by the assessment's profiles ({profiles}); selected by {chosen_by}")


def _other_mode(mode: CheckKind) -> str:
    if mode is CheckKind.STATIC:
        return "a runtime control: 'compliance probe' checks it on the hosts, the gate does not"
    return "a static control: 'compliance gate' checks it on the release, the probe does not"


def _remedy(control: Control) -> str:
    remediation = control.remediation
    if remediation is None or not remediation.nixos:
        return ""
    return "; set " + ", ".join(sorted(remediation.nixos))


def _attestations_for(fw: Framework, clause: Clause, assessment: Assessment) -> tuple[list[str], list[Advice]]:
    valid: list[str] = []
    rejected: list[Advice] = []
    for outcome in assessment.attestations or []:
        if not any(fw.resolve(ref) == clause.id for ref in outcome.clauses.get(fw.id, [])):
            continue
        name = outcome.id or outcome.source
        if outcome.counts:
            valid.append(name)
        else:
            rejected.append(Advice(None, None, Action.ATTEST, f"attestation {name} does not count ({outcome.reason}): sign a valid one"))
    return valid, rejected


def _notes(catalog: Catalog, fw: Framework, assessment: Assessment) -> list[str]:
    notes: list[str] = []
    if assessment.catalog_digest != catalog.digest:
        notes.append("the assessment was made with another catalog: advice follows the current one")
    if fw.id not in assessment.frameworks:
        notes.append(f"the assessment's profiles do not report on {fw.id.value}")
    return notes
