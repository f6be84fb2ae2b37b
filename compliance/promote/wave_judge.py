"""The decision: each host's evidence classified, its controls judged by the policy, then
the wave as a whole (enough hosts reported, not too many on nixfleet's weaker evidence,
nothing unattributed in the folder).

Per host, the reports attributed to it are reduced to one piece of evidence: a report of
another wave that verified is set aside (and named) when the host has one for this wave;
two different reports for the wave make the host's evidence *duplicated*, which never
counts. A verdict is the strongest action of all findings: any roll back rolls back,
else any hold holds, else the wave is promoted; and a wave where no host at all has
valid evidence is never promoted, whatever the policy's share.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from compliance import TOOL_NAME, __version__
from compliance.models.common import Status
from compliance.promote.host_evidence import (
    ABSENT,
    SUSPICIOUS,
    ControlOutcome,
    Evidence,
    EvidenceStatus,
    ReportKind,
)
from compliance.promote.parallel import check_reports
from compliance.promote.promotion_policy import Action, HostRules, PromotionPolicy
from compliance.promote.readers import ReportSource
from compliance.promote.report_verify import CheckedReport, Expectations
from compliance.promote.wave import LoadedWave, WaveHost
from compliance.promote.wave_decision import (
    Coverage,
    Finding,
    HostDecision,
    HostOutcome,
    ReportRef,
    Summary,
    Verdict,
    WaveDecision,
)
from compliance.util.canonical import canonical_json

NOT_JUDGED = {Status.PASS, Status.NOT_APPLICABLE}


@functools.cache
def default_required_controls() -> tuple[str, ...]:
    """Every control ``compliance probe`` runs without ``--profile``: each control of the
    built-in catalog with a runtime check. What the default policy requires of a report."""
    from compliance.catalog.loader import load_catalog
    from compliance.catalog.selection import select
    from compliance.models.control import CheckKind

    selection = select(load_catalog(), [], CheckKind.RUNTIME)
    return tuple(sorted(sc.control.id for sc in selection.controls if sc.control.checks_of(CheckKind.RUNTIME)))


def policy_digest(policy: PromotionPolicy) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(policy.model_dump(mode="json"))).hexdigest()


def _ref(checked: CheckedReport, message: str | None = None) -> ReportRef:
    evidence = checked.evidence
    return ReportRef(
        file=checked.file, sha256=checked.sha256, status=checked.status,
        message=message or checked.message, kind=checked.kind, claimed_host=checked.claimed_host,
        report_id=evidence.report_id if evidence else None, created=evidence.created if evidence else None,
        signer=evidence.signer if evidence else None,
    )


@dataclass
class _Host:
    """A host while it is being judged."""

    host: WaveHost
    status: EvidenceStatus
    message: str
    judged: CheckedReport | None
    refs: list[ReportRef]
    findings: list[Finding] = field(default_factory=list)


def _evidence_of(host: WaveHost, reports: list[CheckedReport]) -> _Host:
    other_waves = [r for r in reports if r.status is EvidenceStatus.WRONG_NONCE]
    distinct: dict[str, CheckedReport] = {}
    for report in reports:
        if report.status is not EvidenceStatus.WRONG_NONCE:
            distinct.setdefault(report.sha256, report)
    current = list(distinct.values())
    refs = [_ref(r) for r in reports]
    if len(current) > 1:
        listed = "; ".join(f"{r.file} ({r.status.value})" for r in current)
        return _Host(host, EvidenceStatus.DUPLICATED, f"{len(current)} different reports for one host and wave: {listed}",
                     None, refs)
    if current:
        judged = current[0]
        if other_waves:
            refs = [_ref(r, "a report of another wave, set aside: the host has one for this wave")
                    if r.status is EvidenceStatus.WRONG_NONCE else _ref(r) for r in reports]
        return _Host(host, judged.status, judged.message, judged, refs)
    if other_waves:
        return _Host(host, EvidenceStatus.WRONG_NONCE, other_waves[0].message, other_waves[0], refs)
    return _Host(host, EvidenceStatus.MISSING, "no report", None, refs)


def _control_action(outcome: ControlOutcome, rules: HostRules, policy: PromotionPolicy, kind: ReportKind) -> Action:
    if outcome.control_id in policy.ignore_controls or outcome.status is Status.WAIVED:
        return Action.NOTE
    if outcome.status is Status.FAIL:
        if outcome.control_id in policy.rollback_controls:
            return Action.ROLLBACK
        if kind is ReportKind.NIXFLEET:
            return Action(policy.nixfleet.non_compliant)
        if outcome.severity in rules.rollback_on:
            return Action.ROLLBACK
        return Action.HOLD if outcome.severity in rules.hold_on else Action.NOTE
    if kind is ReportKind.NIXFLEET:  # the stricter of the host's (or canary's) rules and nixfleet's
        return max(policy.nixfleet.errors, rules.errors, key=lambda a: a.rank)
    return rules.errors  # error, manual


def _control_findings(host: WaveHost, evidence: Evidence, policy: PromotionPolicy) -> list[Finding]:
    rules = policy.rules_for(host.canary)
    findings = [
        Finding(action=_control_action(c, rules, policy, evidence.kind), message=c.message, host=host.name,
                control_id=c.control_id, severity=c.severity, status=c.status)
        for c in evidence.controls if c.status not in NOT_JUDGED
    ]
    if all(c.status is Status.NOT_APPLICABLE for c in evidence.controls):
        findings.append(Finding(action=Action.HOLD, host=host.name, message=(
            "the report decides no control (it checks none, or finds every one not applicable)")))
    checked = {c.control_id: c.status for c in evidence.controls}
    if evidence.kind is ReportKind.NIXFLEET or policy.required_controls is not None:
        required = policy.nixfleet.required_controls if evidence.kind is ReportKind.NIXFLEET else policy.required_controls or []
        for control_id in required:
            if checked.get(control_id, Status.NOT_APPLICABLE) is Status.NOT_APPLICABLE:
                why = "did not check" if control_id not in checked else "found not applicable"
                findings.append(Finding(action=Action.HOLD, host=host.name, control_id=control_id,
                                        message=f"the report {why} {control_id}, which the policy requires"))
    else:
        unchecked = [c for c in default_required_controls() if c not in checked]
        if unchecked:
            findings.append(Finding(action=Action.HOLD, host=host.name, message=(
                f"the report did not check {len(unchecked)} of the {len(default_required_controls())} controls "
                f"'compliance probe' runs by default, which the default policy requires: {', '.join(unchecked)} "
                "(a policy's required_controls says otherwise)")))
    if evidence.kind is ReportKind.NIXFLEET:
        findings.append(Finding(action=Action.NOTE, host=host.name, evidence=EvidenceStatus.VALID,
                                message="nixfleet evidence: bound to host name and time only (no nonce, closure, "
                                        "machine or boot id); accepted by the policy"))
    return findings


def _evidence_findings(judging: _Host, policy: PromotionPolicy) -> None:
    status, name = judging.status, judging.host.name
    file = judging.judged.file if judging.judged else None
    if status is EvidenceStatus.VALID:
        assert judging.judged is not None and judging.judged.evidence is not None
        judging.findings.extend(_control_findings(judging.host, judging.judged.evidence, policy))
    elif status is EvidenceStatus.WRONG_CLOSURE:
        judging.findings.append(Finding(action=Action(policy.wrong_closure), host=name, evidence=status,
                                        file=file, message=judging.message))
    elif status in SUSPICIOUS:
        judging.findings.append(Finding(action=Action(policy.invalid_evidence), host=name, evidence=status,
                                        file=file, message=judging.message))
    # ABSENT: decided with the wave's coverage


def _coverage(group: list[_Host], name: str, rules: HostRules) -> tuple[Coverage, list[Finding]]:
    valid = sum(1 for h in group if h.status is EvidenceStatus.VALID)
    needed = rules.needed(len(group))
    coverage = Coverage(group=name, hosts=len(group), valid=valid, needed=needed)
    short = valid < needed
    action = Action.HOLD if short else Action.NOTE
    for judging in group:
        if judging.status in ABSENT:
            tail = "" if short else " (tolerated: enough hosts reported)"
            judging.findings.append(Finding(action=action, host=judging.host.name, evidence=judging.status,
                                            file=judging.judged.file if judging.judged else None,
                                            message=judging.message + tail))
    findings = []
    if short:
        findings.append(Finding(action=Action.HOLD, message=f"{valid} of {len(group)} {name} have valid evidence; "
                                                            f"the policy needs {needed} ({rules.min_reported:.0%})"))
    return coverage, findings


def _outcome(judging: _Host) -> HostOutcome:
    rank = max((f.action.rank for f in judging.findings), default=0)
    if rank == Action.ROLLBACK.rank:
        return HostOutcome.ROLLBACK
    if rank == Action.HOLD.rank:
        return HostOutcome.HOLD
    return HostOutcome.TOLERATED if judging.status in ABSENT else HostOutcome.CLEAR


def _host_decision(judging: _Host) -> HostDecision:
    evidence = judging.judged.evidence if judging.judged and judging.status is EvidenceStatus.VALID else None
    return HostDecision(
        name=judging.host.name, canary=judging.host.canary, expected_closure=judging.host.expected_closure,
        evidence=judging.status, outcome=_outcome(judging), kind=judging.judged.kind if judging.judged else None,
        binds=sorted(evidence.binds) if evidence else [], report_id=evidence.report_id if evidence else None,
        created=evidence.created if evidence else None,
        running_closure=evidence.running_closure if evidence else None, boot_id=evidence.boot_id if evidence else None,
        controls=dict(sorted(Counter(c.status for c in evidence.controls).items())) if evidence else {},
        findings=judging.findings, reports=judging.refs,
    )


def _order(finding: Finding) -> tuple[int, str, str, str, str]:
    return (-finding.action.rank, finding.host or "", finding.file or "", finding.control_id or "", finding.message)


def decide_wave(wave: LoadedWave, policy: PromotionPolicy, reports: Sequence[ReportSource], now: datetime,
                processes: int | None = None) -> WaveDecision:
    """Verify every report against the wave and decide. No clock: the same arguments give
    the same decision (``processes`` changes only how fast)."""
    checked = check_reports(reports, Expectations(wave, policy, now), processes)
    by_host: dict[str, list[CheckedReport]] = {}
    unattributed: list[CheckedReport] = []
    for report in checked:
        if report.host is None:
            unattributed.append(report)
        else:
            by_host.setdefault(report.host, []).append(report)
    judged = [_evidence_of(h, by_host.get(h.name, [])) for h in sorted(wave.wave.hosts, key=lambda h: h.name)]
    for judging in judged:
        _evidence_findings(judging, policy)

    wave_findings: list[Finding] = []
    coverage: list[Coverage] = []
    for name, canary in (("canaries", True), ("hosts", False)):
        group = [j for j in judged if j.host.canary is canary]
        if group:
            cover, findings = _coverage(group, name, policy.rules_for(canary))
            coverage.append(cover)
            wave_findings.extend(findings)
    valid = [j for j in judged if j.status is EvidenceStatus.VALID]
    if not valid:
        wave_findings.append(Finding(action=Action.HOLD, message="no host of the wave has valid evidence"))
    nixfleet = sum(1 for j in valid if j.judged and j.judged.kind is ReportKind.NIXFLEET)
    allowed = math.floor(round(policy.nixfleet.max_share * len(judged), 9))
    if nixfleet > allowed:
        wave_findings.append(Finding(action=Action.HOLD, message=(
            f"{nixfleet} of {len(judged)} hosts rest on nixfleet evidence, which binds less; the policy allows "
            f"{allowed} ({policy.nixfleet.max_share:.0%})")))
    for report in unattributed:
        wave_findings.append(Finding(action=policy.unattributed_reports, evidence=report.status, file=report.file,
                                     message=report.message))

    hosts = [_host_decision(j) for j in judged]
    every = wave_findings + [f for h in hosts for f in h.findings]
    rank = max((f.action.rank for f in every), default=0)
    verdict = Verdict.ROLLBACK if rank == Action.ROLLBACK.rank else Verdict.HOLD if rank == Action.HOLD.rank else Verdict.PROMOTE
    return WaveDecision(
        verdict=verdict, exit_code=verdict.exit_code, wave=wave.wave.id, nonce=wave.wave.nonce, decided_at=now,
        activated_at=wave.wave.activated_at, tool=TOOL_NAME, tool_version=__version__, wave_digest=wave.digest,
        policy_digest=policy_digest(policy), policy=policy,
        summary=Summary(
            hosts=len(judged), canaries=sum(1 for j in judged if j.host.canary), valid=len(valid), nixfleet=nixfleet,
            by_evidence=dict(sorted(Counter(j.status for j in judged).items())), coverage=coverage,
        ),
        reasons=sorted((f for f in every if f.action is not Action.NOTE), key=_order),
        notes=sorted((f for f in every if f.action is Action.NOTE), key=_order),
        hosts=hosts,
        unattributed=[_ref(r) for r in unattributed],
    )
