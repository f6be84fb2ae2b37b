"""The known-vulnerability judgement: for each finding, is it part of the release, is it
covered by VEX or an exception, and does it block?

A finding blocks when it lies in the release, nothing covers it, and it is known
exploited, or its best CVSS score exceeds the limit, or its severity is one that blocks,
or its severity is unknown (a finding nobody rated is not a low one). The scanner's own
suppressions (vulnix whitelists, grype ignore rules) are not honoured here: only VEX and
recorded exceptions are, and both are kept in the result so that the evidence shows what
was hidden and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from compliance.models.vulns import (
    Finding,
    VexStatement,
    VexStatus,
    VulnerabilityData,
    VulnException,
    VulnSeverity,
)
from compliance.vulns.inventory import Inventory, Location
from compliance.vulns.scan_coverage import ExceptionIndex, VexIndex
from compliance.vulns.suppression import IN_FORCE, exception_problems


class Verdict(StrEnum):
    """What the gate makes of one finding: blocking, reported, suppressed by VEX or an exception."""
    BLOCKING = "blocking"
    BELOW_THRESHOLD = "below_threshold"
    SUPPRESSED_BY_VEX = "suppressed_by_vex"
    EXCEPTED = "excepted"
    NOT_IN_RELEASE = "not_in_release"


# When one vulnerability of one component is reported several times (two scanners), the
# most severe verdict stands.
VERDICT_PRECEDENCE = (
    Verdict.BLOCKING,
    Verdict.BELOW_THRESHOLD,
    Verdict.EXCEPTED,
    Verdict.SUPPRESSED_BY_VEX,
    Verdict.NOT_IN_RELEASE,
)


@dataclass(frozen=True)
class Thresholds:
    """Which findings block: the severity and score limits and whether known-exploited ones always block."""
    max_cvss: float = 6.9
    block_severities: frozenset[VulnSeverity] = frozenset({VulnSeverity.HIGH, VulnSeverity.CRITICAL})
    block_known_exploited: bool = True
    block_unknown_severity: bool = True
    block_not_in_release: bool = False
    honoured_vex: frozenset[VexStatus] = frozenset({VexStatus.NOT_AFFECTED, VexStatus.FIXED})
    honour_exceptions: bool = True


@dataclass(frozen=True)
class Judged:
    """One finding with its verdict, where it is in the closure and why it blocks (if it does)."""
    finding: Finding
    location: Location | None
    verdict: Verdict
    reasons: tuple[str, ...]  # why it blocks, or would block were it not covered
    known_exploited: bool
    statement: VexStatement | None = None
    exception: VulnException | None = None
    rejected_exceptions: tuple[tuple[VulnException, tuple[str, ...]], ...] = ()


def block_reasons(finding: Finding, known_exploited: bool, thresholds: Thresholds) -> tuple[str, ...]:
    """Why a finding blocks under the thresholds (empty when it does not)."""
    reasons: list[str] = []
    if known_exploited and thresholds.block_known_exploited:
        reasons.append("known exploited")
    best = finding.best_cvss
    if best is not None and best.score > thresholds.max_cvss:
        reasons.append(f"CVSS {best.score:g} > {thresholds.max_cvss:g}")
    if finding.severity in thresholds.block_severities:
        reasons.append(f"severity {finding.severity.value}")
    elif finding.severity is VulnSeverity.UNKNOWN and best is None and thresholds.block_unknown_severity:
        reasons.append("severity unknown")
    return tuple(reasons)


def judge(data: VulnerabilityData, inventory: Inventory, thresholds: Thresholds, now: datetime) -> list[Judged]:
    """Every finding of the data located in the inventory and judged at ``now``, fail closed on unmatched ones."""
    vex = VexIndex(data.vex, inventory)
    exceptions = ExceptionIndex(data.exceptions, inventory)
    kev = data.known_exploited
    problems_cache: dict[int, tuple[str, ...]] = {}
    out: list[Judged] = []
    for finding in data.findings:
        location = inventory.locate(finding.component)
        exploited = bool(finding.known_exploited) or any(i in kev for i in finding.ids)
        reasons = block_reasons(finding, exploited, thresholds)
        statement = vex.statement_for(finding, location)
        if statement is not None and statement.status in thresholds.honoured_vex:
            out.append(Judged(finding, location, Verdict.SUPPRESSED_BY_VEX, reasons, exploited, statement))
            continue
        accepted: VulnException | None = None
        rejected: list[tuple[VulnException, tuple[str, ...]]] = []
        if thresholds.honour_exceptions:
            for exception in exceptions.exceptions_for(finding, location):
                key = id(exception)
                if key not in problems_cache:
                    problems_cache[key] = tuple(exception_problems(exception, now, IN_FORCE))
                if problems_cache[key]:
                    rejected.append((exception, problems_cache[key]))
                elif accepted is None:
                    accepted = exception
        if accepted is not None:
            verdict = Verdict.EXCEPTED
        elif location is None and not (thresholds.block_not_in_release and reasons):
            verdict = Verdict.NOT_IN_RELEASE
        else:
            verdict = Verdict.BLOCKING if reasons else Verdict.BELOW_THRESHOLD
        out.append(Judged(finding, location, verdict, reasons, exploited, statement, accepted, tuple(rejected)))
    return out


def canonical_id(finding: Finding) -> str:
    """The CVE among a finding's ids when there is one, so that a GHSA reported by one
    scanner and its CVE reported by another count as one vulnerability."""
    cves = sorted(i for i in finding.ids if i.startswith("CVE-"))
    return cves[0] if cves else finding.id


def group_key(judged: Judged) -> tuple[str, tuple[str, ...]]:
    """The key findings are deduplicated by: the canonical id (a CVE when there is one) and where it is."""
    where = judged.location.paths if judged.location is not None else (judged.finding.component.label,)
    return canonical_id(judged.finding), where


def deduplicate(judged: list[Judged]) -> list[Judged]:
    """One entry per vulnerability and place, keeping the most severe verdict (first
    reported on ties), so that two scanners agreeing do not double the count."""
    rank = {v: i for i, v in enumerate(VERDICT_PRECEDENCE)}
    best: dict[tuple[str, tuple[str, ...]], Judged] = {}
    for item in judged:
        key = group_key(item)
        current = best.get(key)
        if current is None or rank[item.verdict] < rank[current.verdict]:
            best[key] = item
    return list(best.values())
