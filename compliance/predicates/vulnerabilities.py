"""Predicates over vulnerability data: the known-vulnerability gate (SC-02), vulnerability
exceptions (SC-03) and the freshness of the data (SC-13).

The judgement lives in :mod:`compliance.vulns`; these functions pick the parameters,
call it at the assessment time and turn the result into an outcome whose observed values
show every finding that blocks, and every finding that VEX, an exception or its place
outside the release kept from blocking.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, failed, passed, predicate
from compliance.errors import CheckError
from compliance.models.params import FALSE, HIGHER, INTERSECTION, LOWER, TRUE, UNION, Params
from compliance.models.vulns import Finding, ReportRole, VexStatus, VulnerabilityData, VulnSeverity
from compliance.util import clock
from compliance.util.gcpause import cyclic_gc_paused
from compliance.vulns.freshness import FreshnessLimits, data_ages
from compliance.vulns.inventory import Inventory, Location
from compliance.vulns.scan_coverage import ExceptionIndex, VexIndex
from compliance.vulns.suppression import ExceptionRules, exception_problems
from compliance.vulns.vuln_judge import Judged, Thresholds, Verdict, deduplicate, judge

MAX_PATHS_LISTED = 5


def _inventory(subject: Subject, *, required: bool) -> Inventory:
    if subject.closure is None and subject.sbom is None and required:
        raise CheckError("needs the closure (--closure) or an SBOM (--sbom) to place the findings in the release")
    if subject.closure is None and subject.sbom is not None and not subject.sbom.components and required:
        # Every finding would be "not in the release": an empty inventory places nothing.
        raise CheckError(f"the SBOM ({subject.sbom.source}) lists no component and there is no closure: "
                         "findings cannot be placed in the release")
    return Inventory(subject.closure, subject.sbom)


def _scans(data: VulnerabilityData) -> None:
    if not data.scan_reports:
        raise CheckError("no scanner report among the vulnerability inputs: VEX documents, exceptions and catalogues do not say what is vulnerable")


def _reports(data: VulnerabilityData) -> list[dict[str, Any]]:
    return [{"source": r.source, "format": r.format, "role": r.role.value, "findings": r.findings, "statements": r.statements}
            for r in data.reports]


def _entry(item: Judged) -> dict[str, Any]:
    finding = item.finding
    best = finding.best_cvss
    entry: dict[str, Any] = {
        "id": finding.id,
        "aliases": list(finding.aliases),
        "component": finding.component.label,
        "store_paths": list(item.location.paths[:MAX_PATHS_LISTED]) if item.location else [],
        "matched_by": item.location.method if item.location else None,
        "severity": finding.severity.value,
        "cvss": best.score if best else None,
        "cvss_vector": best.vector if best else None,
        "known_exploited": item.known_exploited,
        "fixed_versions": list(finding.fixed_versions),
        "reasons": list(item.reasons),
        "scanner": finding.scanner,
        "source": finding.source,
    }
    if item.statement is not None:
        s = item.statement
        entry["vex"] = {"status": s.status.value, "justification": s.justification, "impact_statement": s.impact_statement,
                        "author": s.author, "timestamp": clock.isoformat(s.timestamp) if s.timestamp else None, "source": s.source}
    if item.exception is not None:
        e = item.exception
        entry["exception"] = {"id": e.id, "owner": e.owner, "approver": e.approver, "reason": e.reason,
                              "expires": clock.isoformat(e.expires) if e.expires else None, "source": e.source}
    return entry


class KnownVulnerabilityParams(Params):
    max_cvss: Annotated[float, LOWER] = 6.9  # a finding whose best CVSS base score exceeds this blocks
    block_severities: Annotated[list[VulnSeverity], UNION] = [VulnSeverity.CRITICAL, VulnSeverity.HIGH]
    block_known_exploited: Annotated[bool, TRUE] = True
    block_unknown_severity: Annotated[bool, TRUE] = True
    block_not_in_release: Annotated[bool, TRUE] = False
    honour_vex: Annotated[list[VexStatus], INTERSECTION] = [VexStatus.NOT_AFFECTED, VexStatus.FIXED]
    honour_exceptions: Annotated[bool, FALSE] = True
    max_listed: Annotated[int, LOWER] = 50


@predicate("known_vulnerabilities", params=KnownVulnerabilityParams, needs=["vulnerabilities"])
def known_vulnerabilities(subject: Subject, params: KnownVulnerabilityParams) -> Outcome:
    """No known vulnerability of the release at or above the threshold, or known exploited, unless VEX or a valid exception covers it."""
    with cyclic_gc_paused():  # tens of thousands of judgements, no reference cycles
        return _known_vulnerabilities(subject, params)


def _known_vulnerabilities(subject: Subject, params: KnownVulnerabilityParams) -> Outcome:
    data = subject.need_vulnerabilities()
    _scans(data)
    inventory = _inventory(subject, required=True)
    thresholds = Thresholds(
        max_cvss=params.max_cvss,
        block_severities=frozenset(params.block_severities),
        block_known_exploited=params.block_known_exploited,
        block_unknown_severity=params.block_unknown_severity,
        block_not_in_release=params.block_not_in_release,
        honoured_vex=frozenset(params.honour_vex),
        honour_exceptions=params.honour_exceptions,
    )
    judged = judge(data, inventory, thresholds, clock.now())
    distinct = deduplicate(judged)
    by_verdict: dict[Verdict, list[Judged]] = {v: [] for v in Verdict}
    for item in distinct:
        by_verdict[item.verdict].append(item)
    limit = params.max_listed
    rejected = {e.id: list(problems) for item in judged for e, problems in item.rejected_exceptions}
    counts = {v.value: len(items) for v, items in by_verdict.items()}
    observed = {
        "reports": _reports(data),
        "findings": len(judged),
        "distinct": len(distinct),
        "counts": counts,
        "matched_by": dict(Counter(i.location.method for i in judged if i.location)),
        "blocking": [_entry(i) for i in _ordered(by_verdict[Verdict.BLOCKING])[:limit]],
        "suppressed_by_vex": [_entry(i) for i in by_verdict[Verdict.SUPPRESSED_BY_VEX][:limit]],
        "excepted": [_entry(i) for i in by_verdict[Verdict.EXCEPTED][:limit]],
        "not_in_release": [_entry(i) for i in _ordered(by_verdict[Verdict.NOT_IN_RELEASE])[:limit]],
        "exceptions_not_honoured": rejected,
    }
    blocking = _ordered(by_verdict[Verdict.BLOCKING])
    summary = (f"{counts['below_threshold']} below the threshold, {counts['suppressed_by_vex']} suppressed by VEX, "
               f"{counts['excepted']} under exception, {counts['not_in_release']} not in the release")
    if blocking:
        shown = "; ".join(f"{i.finding.id} in {_where(i.finding, i.location)} ({', '.join(i.reasons)})" for i in blocking[:3])
        more = f" and {len(blocking) - 3} more" if len(blocking) > 3 else ""
        verb = "vulnerability blocks" if len(blocking) == 1 else "vulnerabilities block"
        return failed(f"{len(blocking)} known {verb} the release: {shown}{more} ({summary})", **observed)
    return passed(f"no blocking vulnerability among {len(distinct)} distinct findings ({summary})", **observed)


def _where(finding: Finding, location: Location | None) -> str:
    """The store path's name (without its hash) when the finding lies in the closure,
    else what the report named. Observed values keep the full store paths."""
    if location is None:
        return finding.component.label
    first = location.paths[0]
    return first.rsplit("/", 1)[-1].split("-", 1)[-1] if first.startswith("/") else first


def _ordered(items: list[Judged]) -> list[Judged]:
    """Known exploited first, then by score, so that the worst are listed."""
    def key(item: Judged) -> tuple[bool, float, str]:
        best = item.finding.best_cvss
        return (not item.known_exploited, -(best.score if best else 10.0), item.finding.id)

    return sorted(items, key=key)


class VulnerabilityExceptionParams(Params):
    max_exception_days: Annotated[int, LOWER] = 90
    require_approver: Annotated[bool, TRUE] = True
    require_distinct_approver: Annotated[bool, TRUE] = True
    require_compensating_measure: Annotated[bool, TRUE] = False
    require_component: Annotated[bool, TRUE] = True
    vex_justification_required: Annotated[bool, TRUE] = True
    allow_scanner_suppressions: Annotated[bool, FALSE] = False
    max_listed: Annotated[int, LOWER] = 50


@predicate("vulnerability_exceptions", params=VulnerabilityExceptionParams, needs=["vulnerabilities"])
def vulnerability_exceptions(subject: Subject, params: VulnerabilityExceptionParams) -> Outcome:
    """Every vulnerability exception is justified, owned, approved and time-bound; every not_affected VEX statement says why; no scanner-side suppression goes unrecorded."""
    data = subject.need_vulnerabilities()
    now = clock.now()
    rules = ExceptionRules(
        require_approver=params.require_approver,
        require_component=params.require_component,
        require_created=True,
        require_compensating_measure=params.require_compensating_measure,
        distinct_approver=params.require_distinct_approver,
        max_days=params.max_exception_days,
    )
    problems: dict[str, list[str]] = {}
    for exception in data.exceptions:
        found = exception_problems(exception, now, rules)
        if found:
            problems[f"exception {exception.id} ({exception.vulnerability}, {exception.source})"] = found
    unjustified = [
        f"{s.vulnerability} in {s.source}"
        for s in data.vex
        if params.vex_justification_required and s.status is VexStatus.NOT_AFFECTED and not (s.justification or s.impact_statement)
    ]
    unrecorded = [] if params.allow_scanner_suppressions else _unrecorded_suppressions(subject, data, now, rules)
    limit = params.max_listed
    observed = {
        "exceptions": len(data.exceptions),
        "vex_statements": len(data.vex),
        "scanner_suppressions": sum(1 for f in data.findings if f.suppressed_by_scanner),
        "exception_problems": dict(list(problems.items())[:limit]),
        "vex_without_justification": unjustified[:limit],
        "unrecorded_scanner_suppressions": unrecorded[:limit],
    }
    issues = []
    if problems:
        issues.append(f"{len(problems)} exception(s) not acceptable: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in list(problems.items())[:3]))
    if unjustified:
        issues.append(f"{len(unjustified)} not_affected VEX statement(s) without a justification")
    if unrecorded:
        issues.append(f"{len(unrecorded)} finding(s) hidden by the scanner without a recorded exception or VEX statement")
    if issues:
        return failed("; ".join(issues), **observed)
    return passed(f"{len(data.exceptions)} exception(s) and {len(data.vex)} VEX statement(s) are justified and time-bound", **observed)


def _unrecorded_suppressions(subject: Subject, data: VulnerabilityData, now: datetime, rules: ExceptionRules) -> list[str]:
    """Findings a scanner hid that neither an acceptable exception nor a VEX statement covers."""
    suppressed = [f for f in data.findings if f.suppressed_by_scanner]
    if not suppressed:
        return []
    inventory = _inventory(subject, required=False)
    vex = VexIndex(data.vex, inventory)
    exceptions = ExceptionIndex(data.exceptions, inventory)
    out = []
    for finding in suppressed:
        location = inventory.locate(finding.component)
        statement = vex.statement_for(finding, location)
        if statement is not None and statement.status in (VexStatus.NOT_AFFECTED, VexStatus.FIXED):
            continue
        if any(not exception_problems(e, now, rules) for e in exceptions.exceptions_for(finding, location)):
            continue
        out.append(f"{finding.id} in {_where(finding, location)} ({finding.scanner}, {finding.source})")
    return out


class VulnerabilityFreshnessParams(Params):
    max_scan_age_hours: Annotated[float, LOWER] = 24.0
    max_database_age_hours: Annotated[float, LOWER] = 48.0
    max_known_exploited_age_hours: Annotated[float, LOWER] = 168.0
    allow_undated: Annotated[bool, FALSE] = False
    min_scans: Annotated[int, HIGHER] = 1


@predicate("vulnerability_data_fresh", params=VulnerabilityFreshnessParams, needs=["vulnerabilities"])
def vulnerability_data_fresh(subject: Subject, params: VulnerabilityFreshnessParams) -> Outcome:
    """Every vulnerability scan (and known-exploited catalogue) is recent enough to judge the release on."""
    data = subject.need_vulnerabilities()
    limits = FreshnessLimits(
        max_scan_age_hours=params.max_scan_age_hours,
        max_database_age_hours=params.max_database_age_hours,
        max_known_exploited_age_hours=params.max_known_exploited_age_hours,
        allow_undated=params.allow_undated,
    )
    ages = data_ages(data.reports, clock.now(), limits)
    scans = sum(1 for a in ages if a.report.role is ReportRole.SCAN)
    stale = [a for a in ages if a.problems]
    observed = {"assessed_at": clock.isoformat(clock.now()), "reports": [a.as_observed() for a in ages]}
    issues = [f"{a.report.source}: {'; '.join(a.problems)}" for a in stale]
    if scans < params.min_scans:
        issues.insert(0, f"{scans} vulnerability scan(s) given, at least {params.min_scans} needed")
    if issues:
        return failed("vulnerability data is not fresh: " + " | ".join(issues), **observed)
    oldest = max((a.age_hours for a in ages if a.age_hours is not None and a.report.role is ReportRole.SCAN), default=None)
    age_text = f", the oldest scan {oldest:.1f} h old" if oldest is not None else ""
    return passed(f"{len(ages)} vulnerability data source(s) within their maximum age{age_text}", **observed)
