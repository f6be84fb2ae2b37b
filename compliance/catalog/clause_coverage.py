"""How far the catalog covers a framework, clause by clause.

Every clause of the framework's catalog is listed, so that what no control supports shows
as plainly as what is covered: a clause is ``automated`` when a control's machine check
(static or runtime) cites it or a point under it with the scope ``full`` (the check tests
what the clause asks), ``partial`` when machine checks cite it only for a part,
``attested`` when a valid signed attestation answers it (its status is then ``manual``: a
person vouches for it, no machine checked it), and ``uncovered`` otherwise. A control that
has no check at all supports a clause only through an attestation, so it does not make it
automated. This is what the catalog claims; what one assessment showed is the clause's
standing (:mod:`compliance.catalog.standing`).

The CLI (``compliance frameworks coverage``) and the report call :func:`framework_coverage`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from compliance.catalog.loader import Catalog
from compliance.errors import UsageError
from compliance.models.attestation import AttestationOutcome
from compliance.models.common import Status
from compliance.models.control import Control, Scope
from compliance.models.frameworks import AnssiLevel, Clause, Framework, FrameworkId


class CoverageKind(StrEnum):
    AUTOMATED = "automated"
    PARTIAL = "partial"
    ATTESTED = "attested"
    UNCOVERED = "uncovered"


@dataclass(frozen=True)
class ClauseCoverage:
    clause: Clause
    kind: CoverageKind
    controls: tuple[str, ...]  # controls with a machine check that support the clause
    full_controls: tuple[str, ...]  # of those, the ones citing it with the scope "full"
    manual_controls: tuple[str, ...]  # controls without a check that cite it (need an attestation)
    attestations: tuple[str, ...]  # ids of the valid attestations answering it

    @property
    def status(self) -> Status | None:
        """``manual`` for a clause only a person vouches for."""
        return Status.MANUAL if self.kind is CoverageKind.ATTESTED else None

    def to_jsonable(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "clause": self.clause.id,
            "title": self.clause.title,
            "coverage": self.kind.value,
            "attested": bool(self.attestations),
            "controls": list(self.controls),
            "full_controls": list(self.full_controls),
            "manual_controls": list(self.manual_controls),
            "attestations": list(self.attestations),
        }
        if self.status is not None:
            doc["status"] = self.status.value
        for key in ("part", "machine_checkable"):
            value = getattr(self.clause, key)
            if value is not None:
                doc[key] = value
        if self.clause.level is not None:
            doc["level"] = self.clause.level.value
        return doc


@dataclass(frozen=True)
class FrameworkCoverage:
    framework: Framework
    clauses: tuple[ClauseCoverage, ...]
    levels: tuple[AnssiLevel, ...] | None  # ANSSI levels in scope, None: every clause

    def count(self, kind: CoverageKind) -> int:
        return sum(1 for row in self.clauses if row.kind is kind)

    def to_jsonable(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "framework": self.framework.id.value,
            "title": self.framework.title,
            "version": self.framework.version,
            "counts": {kind.value: self.count(kind) for kind in CoverageKind},
            "clauses": [row.to_jsonable() for row in self.clauses],
        }
        if self.levels is not None:
            doc["levels"] = [level.value for level in self.levels]
        return doc


def framework_of(catalog: Catalog, framework: str) -> Framework:
    """The clause catalog of ``framework`` (an id such as ``nis2``); a usage error otherwise."""
    try:
        fw_id = FrameworkId(framework)
    except ValueError:
        known = ", ".join(f.value for f in FrameworkId)
        raise UsageError(f"unknown framework {framework!r} (known: {known})") from None
    found = catalog.frameworks.get(fw_id)
    if found is None:
        raise UsageError(f"the catalog has no clause list for {fw_id.value} (controls/frameworks/{fw_id.value}.toml)")
    return found


def supporting_controls(framework: Framework, controls: Iterable[Control]) -> dict[str, list[Control]]:
    """Catalog clause id → the controls citing it or a point under it, in catalog order."""
    by_clause: dict[str, list[Control]] = {c.id: [] for c in framework.clauses}
    for control in controls:
        for ref in control.clauses.get(framework.id, []):
            clause = framework.resolve(ref)
            if clause is not None and control not in by_clause[clause]:
                by_clause[clause].append(control)
    return by_clause


def _cites_fully(framework: Framework, control: Control, clause_id: str) -> bool:
    return any(
        cite.scope is Scope.FULL and any(framework.resolve(ref) == clause_id for ref in cite.clauses)
        for cite in control.cites
        if cite.framework is framework.id
    )


def attested_clauses(framework: Framework, attestations: Iterable[AttestationOutcome]) -> dict[str, list[str]]:
    """Catalog clause id → ids of the attestations that count and answer it."""
    by_clause: dict[str, list[str]] = {}
    for outcome in attestations:
        if not outcome.counts:
            continue
        for ref in outcome.clauses.get(framework.id, []):
            clause = framework.resolve(ref)
            if clause is not None:
                ids = by_clause.setdefault(clause, [])
                if (outcome.id or outcome.source) not in ids:
                    ids.append(outcome.id or outcome.source)
    return by_clause


def framework_coverage(
    catalog: Catalog,
    framework: str | FrameworkId,
    *,
    controls: Iterable[Control] | None = None,
    attestations: Iterable[AttestationOutcome] = (),
    levels: Collection[AnssiLevel] | None = None,
) -> FrameworkCoverage:
    """Every clause of ``framework`` with what covers it.

    ``controls`` defaults to the whole catalog (pass a profile's selection to see what it
    covers); ``attestations`` are verified outcomes, of which only valid ones count;
    ``levels`` restricts an ANSSI framework to the recommendations of those levels.
    """
    fw = framework_of(catalog, framework.value if isinstance(framework, FrameworkId) else framework)
    chosen = list(catalog.controls.values()) if controls is None else list(controls)
    supports = supporting_controls(fw, chosen)
    attested = attested_clauses(fw, attestations)
    in_scope = levels if levels is not None and fw.id is FrameworkId.ANSSI else None
    rows: list[ClauseCoverage] = []
    for clause in fw.clauses:
        if in_scope is not None and clause.level not in in_scope:
            continue
        checked = tuple(c.id for c in supports[clause.id] if c.checks)
        full = tuple(c.id for c in supports[clause.id] if c.checks and _cites_fully(fw, c, clause.id))
        manual = tuple(c.id for c in supports[clause.id] if not c.checks)
        answered = tuple(attested.get(clause.id, ()))
        if full:
            kind = CoverageKind.AUTOMATED
        elif answered:
            kind = CoverageKind.ATTESTED
        else:
            kind = CoverageKind.PARTIAL if checked else CoverageKind.UNCOVERED
        rows.append(ClauseCoverage(clause, kind, checked, full, manual, answered))
    scope = tuple(level for level in AnssiLevel if level in in_scope) if in_scope is not None else None
    return FrameworkCoverage(fw, tuple(rows), scope)
