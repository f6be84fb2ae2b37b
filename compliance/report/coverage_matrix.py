"""The per-framework coverage matrix: every clause, the controls behind it, and the gaps.

An auditor reads a framework clause by clause. For each clause this module says which
controls of the assessment support it (with their status, the checks, the scope and the
sentence of each citation), which attestations answer it, its standing and why, and, as
plainly as the rest, when nothing does. A clause no control covers is not a pass: it is
evidence the packet does not contain. The standing is the one recorded in the results
(:mod:`compliance.catalog.standing`), so the report says what ``frameworks gaps`` says.

With the catalog's clause list for a framework the matrix is complete: its rows are the
clauses ``compliance frameworks coverage`` lists for the assessment's profiles (for ANSSI,
the recommendations of the levels they select). Which controls support a clause is read
from the signed results, not from today's catalog: the report shows what was evidenced.
Without a clause list the matrix can only list the clauses that the controls cite, and says
so, because it then cannot show what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from compliance.catalog.clause_coverage import framework_coverage as catalog_coverage
from compliance.catalog.loader import Catalog
from compliance.catalog.standing import standings_of
from compliance.models.common import Status
from compliance.models.frameworks import AnssiLevel, Clause, Framework, FrameworkId
from compliance.models.results import Assessment, CitationStanding, ClauseStanding, ControlResult
from compliance.report.attestation_rows import AttestationView

FALLBACK_TITLES = {
    FrameworkId.NIS2: "NIS2: Directive (EU) 2022/2555 and Implementing Regulation (EU) 2024/2690",
    FrameworkId.DORA: "DORA: Regulation (EU) 2022/2554 and RTS (EU) 2024/1774",
    FrameworkId.ISO27001: "ISO/IEC 27001:2022 Annex A",
    FrameworkId.ANSSI: "ANSSI BP-028 v2.0",
}


@dataclass(frozen=True)
class Support:
    """A control that supports a clause, the finer points it cites under it, and its claim."""

    control_id: str
    title: str
    status: Status
    cited: tuple[str, ...]  # references under the clause ("CIR 6.7.2(c)"), empty when it cites the clause itself
    claims: tuple[CitationStanding, ...] = ()  # its citations of the clause: checks, scope, sentence, and why


@dataclass(frozen=True)
class ClauseRow:
    clause_id: str
    title: str | None
    part: str | None  # enclosing section or theme, printed as a group heading
    level: str | None  # ANSSI BP-028 level
    machine_checkable: bool | None
    supports: tuple[Support, ...]
    attestations: tuple[AttestationView, ...]
    state: ClauseStanding
    reason: str
    listed: bool  # False: cited by a control but absent from the catalog's clause list
    not_run: tuple[CitationStanding, ...] = ()  # citations by checks of the other mode, which this assessment did not run


@dataclass(frozen=True)
class FrameworkCoverage:
    id: str
    title: str
    version: str | None
    complete: bool  # the rows are the framework's clause list (in scope), not only what is cited
    note: str | None
    rows: tuple[ClauseRow, ...]

    def count(self, *states: ClauseStanding | str) -> int:
        wanted = {ClauseStanding(s) for s in states}
        return sum(1 for row in self.rows if row.state in wanted)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def covered(self) -> int:
        return self.total - self.count(ClauseStanding.UNCOVERED)


_CHUNK = re.compile(r"(\d+)")


def natural_key(ref: str) -> tuple[tuple[int, int | str], ...]:
    """``A.8.9`` before ``A.8.10``, ``R2`` before ``R12``."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _CHUNK.split(ref) if part)


def _fallback(supports: Iterable[Support], attestations: tuple[AttestationView, ...]) -> tuple[ClauseStanding, str]:
    """Without recorded standings or a clause list the scope of the claims is unknown: a
    clause is never satisfied, only failed, waived, attested, partial or uncovered."""
    backing = list(supports)
    statuses = {s.status for s in backing}
    if statuses & {Status.FAIL, Status.ERROR}:
        return ClauseStanding.FAILED, "a supporting control failed or errored"
    if Status.WAIVED in statuses:
        return ClauseStanding.WAIVED, "a supporting control fails under a waiver"
    if any(a.counts for a in attestations):
        return ClauseStanding.ATTESTED, "a valid attestation answers it"
    if Status.PASS in statuses:
        return ClauseStanding.PARTIAL, "supporting controls passed; the results record no scope for their claims"
    return ClauseStanding.UNCOVERED, "nothing in the assessment evidences it"


def _frameworks_to_show(assessment: Assessment) -> tuple[list[FrameworkId], bool]:
    """The assessment's frameworks; when it names none, those its controls cite."""
    if assessment.frameworks:
        return list(dict.fromkeys(assessment.frameworks)), True
    cited = {fw for result in assessment.results for fw in result.clauses}
    return [fw for fw in FrameworkId if fw in cited], False


def _supports(framework_id: FrameworkId, results: list[ControlResult], framework: Framework | None) -> dict[str, list[Support]]:
    """Clause → the controls citing it or a point under it (the clause is the reference itself
    without a clause list), from the clauses the signed results record."""
    supports: dict[str, list[Support]] = {}
    for result in sorted(results, key=lambda r: natural_key(r.control_id)):
        under: dict[str, list[str]] = {}
        for ref in result.clauses.get(framework_id, []):
            clause = (framework.resolve(ref) if framework is not None else ref) or ref
            under.setdefault(clause, [])
            if ref != clause:
                under[clause].append(ref)
        for clause, cited in under.items():
            supports.setdefault(clause, []).append(
                Support(result.control_id, result.title, result.status, tuple(sorted(set(cited), key=natural_key)))
            )
    return supports


def anssi_levels(assessment: Assessment, catalog: Catalog) -> set[AnssiLevel] | None:
    """The ANSSI levels the assessment's profiles select by, None when none does."""
    levels = {
        level for pid in assessment.profiles if pid in catalog.profiles for level in catalog.profiles[pid].select.anssi_levels
    }
    return levels or None


def framework_matrix(
    framework_id: FrameworkId,
    assessment: Assessment,
    attestations: list[AttestationView],
    catalog: Catalog | None,
) -> FrameworkCoverage:
    framework = catalog.frameworks.get(framework_id) if catalog is not None else None
    supports = _supports(framework_id, assessment.results, framework)
    standings = {r.clause: r for r in standings_of(catalog, framework_id, assessment) or []}

    def row(
        clause_id: str, title: str | None, part: str | None, level: str | None, checkable: bool | None, listed: bool
    ) -> ClauseRow:
        answering = tuple(a for a in attestations if a.answers(framework_id, clause_id, framework))
        decided = standings.get(clause_id)
        if decided is None:
            backing = tuple(supports.get(clause_id, ()))
            state, reason = _fallback(backing, answering)
            return ClauseRow(clause_id, title, part, level, checkable, backing, answering, state, reason, listed)
        claims: dict[str, list[CitationStanding]] = {}
        for claim in decided.citations:
            claims.setdefault(claim.control_id, []).append(claim)
        backing = tuple(
            Support(s.control_id, s.title, s.status, s.cited, tuple(claims.get(s.control_id, ()))) for s in supports.get(clause_id, ())
        )
        ran = {s.control_id for s in backing}
        not_run = tuple(c for c in decided.citations if c.control_id not in ran and c.pending)
        return ClauseRow(clause_id, title, part, level, checkable, backing, answering, decided.standing, decided.reason, listed, not_run)

    if catalog is not None and framework is not None:
        # The clauses in scope are those 'compliance frameworks coverage' lists for these profiles.
        levels = anssi_levels(assessment, catalog)
        in_scope = [c.clause for c in catalog_coverage(catalog, framework_id, controls=(), levels=levels).clauses]


        def listed(clause: Clause, part: str | None) -> ClauseRow:
            return row(clause.id, clause.title, part, clause.level.value if clause.level else None, clause.machine_checkable, True)

        rows = [listed(c, c.part) for c in in_scope]
        shown = {c.id for c in in_scope}
        beyond = sorted((c for c in framework.clauses if c.id in supports and c.id not in shown), key=lambda c: natural_key(c.id))
        unknown = sorted((c for c in supports if c not in framework.clause_ids()), key=natural_key)
        rows += [listed(c, "Cited, beyond the levels in scope") for c in beyond]
        rows += [row(c, None, "Cited, but not in this catalog's clause list", None, None, False) for c in unknown]
        notes = []
        if levels is not None and framework_id is FrameworkId.ANSSI:
            names = ", ".join(level.value for level in AnssiLevel if level in levels)
            notes.append(f"In scope: the recommendations of the levels the profiles select ({names}).")
        if unknown:
            notes.append(
                f"{len(unknown)} reference(s) cited by the controls are not in this catalog's clause list "
                f"for {framework.title} (shown last): the assessment was made with another catalog."
            )
        note = " ".join(notes) or None
        return FrameworkCoverage(framework_id.value, framework.title, framework.version, True, note, tuple(rows))
    attested_refs = {ref for a in attestations for ref in a.clauses.get(framework_id, [])}
    cited_clauses = sorted({*supports, *attested_refs}, key=natural_key)
    title = FALLBACK_TITLES[framework_id]
    note = (
        f"The catalog has no clause list for {title}: this matrix shows only the clauses that the "
        "controls and attestations cite. Clauses that nothing cites are not listed, so it cannot show "
        "what is not covered."
    )
    rows = [row(c, None, None, None, None, True) for c in cited_clauses]
    return FrameworkCoverage(framework_id.value, title, None, False, note, tuple(rows))


@dataclass(frozen=True)
class CoverageMatrix:
    frameworks: tuple[FrameworkCoverage, ...]
    chosen_by_profiles: bool  # False: no profile named a framework, the cited ones are shown
    catalog_note: str | None  # the clause lists come from another catalog than the assessment's


def coverage_matrix(assessment: Assessment, catalog: Catalog | None, attestations: list[AttestationView]) -> CoverageMatrix:
    framework_ids, chosen = _frameworks_to_show(assessment)
    note = None
    if catalog is not None and catalog.digest != assessment.catalog_digest:
        note = (
            f"The clause lists come from the catalog {catalog.digest}; the assessment was made with the "
            f"catalog {assessment.catalog_digest}. Clause lists may differ between the two."
        )
    return CoverageMatrix(
        tuple(framework_matrix(fw, assessment, attestations, catalog) for fw in framework_ids),
        chosen,
        note,
    )
