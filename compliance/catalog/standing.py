"""The standing of every clause of a framework after one assessment.

PRODUCT.md, "What a clause standing means": a clause is ``satisfied`` only when a
full-scope citation's checks ran and passed, under parameters at least as strict as that
framework's own profile for the clause's level (:func:`~compliance.catalog.selection.reference_profile`),
with no supporting control failed, errored, waived or awaiting attestation. Otherwise it is
``failed``, ``waived``, ``partial`` (checks passed but test part of the clause, or ran under
laxer parameters, or an attestation awaits), ``attested`` (a person vouches, no machine
checked), ``needs-runtime-evidence`` / ``needs-static-evidence`` (what evidences it is a
check of the other mode, which this assessment did not run) or ``uncovered``.

The citations are read from the signed results (what was claimed when the assessment ran);
controls of the catalog that the assessment did not run are listed as such, so that a
clause evidenced by a probe shows that it needs one. Every view (``frameworks gaps``,
``frameworks coverage --results``, the report, Markdown, OSCAL) shows what this module
decides, recorded once in the assessment (:func:`assess_clauses`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from compliance.catalog.loader import Catalog
from compliance.catalog.selection import reference_profile, reference_values
from compliance.checks import registry
from compliance.models.common import Status
from compliance.models.control import ALL_CHECKS, ATTESTATION, CheckKind, Citation, Control, Scope
from compliance.models.frameworks import Clause, Framework, FrameworkId
from compliance.models.params import strictness_of
from compliance.models.results import (
    Assessment,
    CitationStanding,
    ClauseResult,
    ClauseStanding,
    ControlResult,
)


@dataclass(frozen=True)
class _Claim:
    """One control's citation of a clause, with what the assessment did with the control."""

    control_id: str
    control: Control | None  # from the current catalog, for the reference parameters
    citation: Citation
    refs: tuple[str, ...]
    result: ControlResult | None  # None: the assessment did not run it


UNSCOPED = "Recorded without a scope (results of an earlier version): counted as partial."


def _unscoped(result: ControlResult) -> list[Citation]:
    """The citations of a result written before citations had a scope: its clauses, evidenced
    by all its checks, partial (fail closed: such a result never satisfies a clause)."""
    checks: list[str] | str = [c.function for c in result.checks] if result.status is not Status.MANUAL else ATTESTATION
    return [
        Citation(framework=fw, clauses=refs, checks=checks, scope=Scope.PARTIAL, evidences=UNSCOPED)
        for fw, refs in result.clauses.items()
        if refs
    ]


def _claims(catalog: Catalog, fw: Framework, assessment: Assessment) -> dict[str, list[_Claim]]:
    """Clause id → the claims on it, results first (in control order), then catalog controls not run."""
    claims: dict[str, list[_Claim]] = {c.id: [] for c in fw.clauses}
    ran = {r.control_id for r in assessment.results}
    sources: list[tuple[str, list[Citation], ControlResult | None]] = []
    for done in sorted(assessment.results, key=lambda r: r.control_id):
        control = catalog.controls.get(done.control_id)
        cites = done.citations or _unscoped(done)
        if control is not None:
            cites = [c.model_copy(update={"checks": c.functions(control)}) if c.checks == ALL_CHECKS else c for c in cites]
        sources.append((done.control_id, cites, done))
    sources += [(cid, c.resolved_cites(), None) for cid, c in sorted(catalog.controls.items()) if cid not in ran]
    for cid, cites, result in sources:
        for cite in cites:
            if cite.framework is not fw.id:
                continue
            under: dict[str, list[str]] = {}
            for ref in cite.clauses:
                clause = fw.resolve(ref)
                if clause is not None:
                    under.setdefault(clause, []).append(ref)
            for clause, refs in under.items():
                claims[clause].append(_Claim(cid, catalog.controls.get(cid), cite, tuple(refs), result))
    return claims


def _attesting(fw: Framework, clause: Clause, assessment: Assessment) -> list[str]:
    """Ids of the valid attestations in the assessment that answer ``clause``."""
    names: list[str] = []
    for outcome in assessment.attestations or []:
        if outcome.counts and any(fw.resolve(ref) == clause.id for ref in outcome.clauses.get(fw.id, [])):
            name = outcome.id or outcome.source
            if name not in names:
                names.append(name)
    return names


def _brief(message: str, limit: int = 160) -> str:
    """A check's message cut for a clause's reason (the full message stays in the results)."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _same(a: Any, b: Any) -> bool:
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(b, option=orjson.OPT_SORT_KEYS)


def _laxer(catalog: Catalog, claim: _Claim, functions: list[str], kind: CheckKind, profile: str) -> list[str]:
    """The parameters of the cited checks laxer than ``profile`` gives them ("name=value, profile wants X")."""
    assert claim.result is not None and claim.control is not None
    wanted = reference_values(catalog, claim.control, profile)
    laxer: list[str] = []
    for function in functions:
        spec = registry.get(kind, function)
        if spec is None:
            continue
        for name in spec.params.model_fields:
            actual = claim.result.params.get(name)
            try:
                merged = strictness_of(spec.params, name).stricter(actual, wanted.get(name))
            except (ValueError, TypeError):
                merged = None
            if name not in claim.result.params or not _same(merged, actual):
                laxer.append(f"{name} {_difference(actual, wanted.get(name))} ({profile})")
    return laxer


def _difference(actual: Any, wanted: Any, limit: int = 6) -> str:
    """What ``actual`` lacks of ``wanted``, short enough for one line of a report."""
    if isinstance(actual, dict) and isinstance(wanted, dict):
        keys = [k for k in wanted if k not in actual or not _same(actual[k], wanted[k])]
        more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
        return "lacks " + ", ".join(f"{k}={_json(wanted[k])}" for k in keys[:limit]) + more
    if isinstance(actual, list) and isinstance(wanted, list):
        items = [i for i in wanted if i not in actual] or [i for i in actual if i not in wanted]
        more = f" and {len(items) - limit} more" if len(items) > limit else ""
        verb = "lacks" if any(i not in actual for i in wanted) else "also allows"
        return f"{verb} " + ", ".join(_json(i) for i in items[:limit]) + more
    return f"is {_json(actual)}, wanted {_json(wanted)}"


def _json(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


@dataclass(frozen=True)
class _Judged:
    standing: CitationStanding
    pending: bool  # its checks are of the other mode: not run by this assessment
    laxer: bool  # its checks passed under laxer parameters than the framework's profile
    awaiting: bool  # a manual control in the assessment, no valid attestation


def _judge(catalog: Catalog, fw: Framework, clause: Clause, claim: _Claim, assessment: Assessment, attested: list[str]) -> _Judged:
    cite, result = claim.citation, claim.result
    functions = [] if isinstance(cite.checks, str) else list(cite.checks)  # "all" is resolved in _claims
    pending = laxer = awaiting = False
    evidenced = False

    def out(reason: str) -> _Judged:
        status = result.status if result is not None else None
        row = CitationStanding(
            control_id=claim.control_id,
            refs=list(claim.refs),
            checks=functions,
            scope=cite.scope,
            evidences=cite.evidences,
            status=status,
            evidenced=evidenced,
            pending=pending,
            reason=reason,
        )
        return _Judged(row, pending, laxer, awaiting)

    other = "runtime probe" if assessment.mode is CheckKind.STATIC else "static check"
    if result is None:
        kinds = {c.kind for c in claim.control.checks if c.function in functions} if claim.control else set()
        if functions and assessment.mode not in kinds:
            pending = True
            return out(f"{', '.join(functions)}: a {other}, which this assessment did not run")
        return out("not selected by the assessment's profiles")
    if result.status is Status.MANUAL:
        if attested:
            evidenced = True
            return out(f"attested by {', '.join(attested)}")
        awaiting = True
        return out("awaits a signed attestation")
    if result.status is Status.WAIVED:
        waiver = f" under waiver {result.waiver.id}" if result.waiver else " under a waiver"
        return out(f"fails{waiver}: {_brief(result.message)}")
    if result.status in (Status.FAIL, Status.ERROR):
        bad = [c for c in result.checks if c.status in (Status.FAIL, Status.ERROR)]
        cited = [c for c in bad if c.function in functions] or bad
        what = "; ".join(f"{c.function} {c.status.value}: {_brief(c.message)}" for c in cited) or _brief(result.message)
        return out(what)
    if result.status is Status.NOT_APPLICABLE:
        return out(f"does not apply: {result.message}")
    ran = {c.function: c for c in result.checks}
    missing = [f for f in functions if f not in ran]
    if missing:
        pending = True
        done = [f for f in functions if f in ran]
        passed = f"{', '.join(done)} passed; " if done else ""
        return out(f"{passed}{', '.join(missing)}: a {other}, which this assessment did not run")
    not_passed = [f for f in functions if ran[f].status is not Status.PASS]
    if not_passed:
        return out(f"{', '.join(not_passed)} did not pass ({', '.join(ran[f].status.value for f in not_passed)})")
    profile = reference_profile(catalog, fw.id, clause.level)
    if profile is not None:
        if claim.control is None:
            return out("the control is not in the current catalog: its parameters cannot be compared")
        weaker = _laxer(catalog, claim, functions, assessment.mode, profile)
        if weaker:
            laxer = True
            return out(f"{', '.join(functions)} passed under laxer parameters: {'; '.join(weaker)}")
    evidenced = True
    return out(f"{', '.join(functions)} passed")


def _decide(judged: list[_Judged], attested: list[str], mode: CheckKind) -> tuple[ClauseStanding, str]:
    def who(rows: Iterable[_Judged]) -> str:
        said = (f"{j.standing.control_id} ({j.standing.scope.value}): {j.standing.reason}" for j in rows)
        return "; ".join(dict.fromkeys(said))

    failed = [j for j in judged if j.standing.status in (Status.FAIL, Status.ERROR)]
    if failed:
        return ClauseStanding.FAILED, who(failed)
    waived = [j for j in judged if j.standing.status is Status.WAIVED]
    if waived:
        return ClauseStanding.WAIVED, who(waived)
    awaiting = [j for j in judged if j.awaiting]
    machine_full = [j for j in judged if j.standing.evidenced and j.standing.checks and j.standing.scope is Scope.FULL]
    if machine_full:
        # Every part claimed must be evidenced: a citation whose check did not run here, or
        # passed only under laxer parameters, keeps the clause from being satisfied.
        unproven = [j for j in judged if not j.standing.evidenced and not j.awaiting]
        if awaiting or unproven:
            return ClauseStanding.PARTIAL, f"{who(machine_full)}; but {who([*awaiting, *unproven])}"
        return ClauseStanding.SATISFIED, who(machine_full)
    needs = ClauseStanding.NEEDS_RUNTIME if mode is CheckKind.STATIC else ClauseStanding.NEEDS_STATIC
    if attested and not awaiting:
        return ClauseStanding.ATTESTED, f"attested by {', '.join(attested)} (a person vouches; no machine check shows it in full)"
    pending_full = [j for j in judged if j.pending and j.standing.scope is Scope.FULL]
    evidence = [j for j in judged if j.standing.evidenced or j.laxer]
    if pending_full:
        return needs, who(pending_full) + (f"; meanwhile {who(evidence)}" if evidence else "")
    if evidence:
        extra = f"; and {who(awaiting)}" if awaiting else ""
        return ClauseStanding.PARTIAL, who(evidence) + extra
    pending = [j for j in judged if j.pending]
    if pending:
        return needs, who(pending)
    if awaiting:
        return ClauseStanding.UNCOVERED, who(awaiting)
    if judged:
        return ClauseStanding.UNCOVERED, who(judged)
    return ClauseStanding.UNCOVERED, "no control of the catalog cites it"


def clause_standings(catalog: Catalog, framework: FrameworkId, assessment: Assessment) -> list[ClauseResult]:
    """Every clause of ``framework`` (in catalog order) with its standing after ``assessment``."""
    fw = catalog.frameworks[framework]
    claims = _claims(catalog, fw, assessment)
    rows: list[ClauseResult] = []
    for clause in fw.clauses:
        attested = _attesting(fw, clause, assessment)
        judged = [_judge(catalog, fw, clause, claim, assessment, attested) for claim in claims[clause.id]]
        standing, reason = _decide(judged, attested, assessment.mode)
        rows.append(
            ClauseResult(
                framework=fw.id,
                clause=clause.id,
                title=clause.title,
                level=clause.level.value if clause.level else None,
                standing=standing,
                reason=reason,
                citations=[j.standing for j in judged],
                attestations=attested,
            )
        )
    return rows


def assess_clauses(catalog: Catalog, assessment: Assessment) -> Assessment:
    """``assessment`` with the standing of every clause of the frameworks it reports on."""
    rows = [row for fw in assessment.frameworks if fw in catalog.frameworks for row in clause_standings(catalog, fw, assessment)]
    return assessment.model_copy(update={"clause_standings": rows})


def standings_of(catalog: Catalog | None, framework: FrameworkId, assessment: Assessment) -> list[ClauseResult] | None:
    """The recorded standings of ``framework``, else (an older results file, or a framework
    it does not report on) the standings the catalog gives now; None without either."""
    recorded = [row for row in assessment.clause_standings or [] if row.framework is framework]
    if recorded:
        return recorded
    if catalog is not None and framework in catalog.frameworks:
        return clause_standings(catalog, framework, assessment)
    return None
