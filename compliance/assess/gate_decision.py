"""The gate: a policy and waivers applied to an assessment give a decision with reasons.

Waivers are applied here, not in the engine: a waiver is a decision about a result,
recorded next to it (who approved it, the risk, until when). An expired waiver, one
outside its scope, one without an approver when the policy needs one, or one longer than
the policy allows, waives nothing, and the result says so.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from fnmatch import fnmatchcase

from compliance.assess.verdict_reason import explain, policy_sentence
from compliance.models.common import Status
from compliance.models.policy import Policy, Waiver
from compliance.models.results import (
    Assessment,
    ControlResult,
    Decision,
    ParameterUse,
    PolicyApplied,
    Reason,
    SubjectRef,
    WaiverApplied,
    WaiverUse,
)
from compliance.util.canonical import canonical_json
from compliance.util.clock import isoformat

DECIDED = {Status.PASS, Status.FAIL, Status.WAIVED, Status.NOT_APPLICABLE}


def policy_digest(policy: Policy) -> str:
    """The SHA-256 of the policy's canonical JSON, recorded in results and manifests."""
    return "sha256:" + hashlib.sha256(canonical_json(policy.model_dump(mode="json"))).hexdigest()


def _in_scope(waiver: Waiver, subject: SubjectRef) -> bool:
    scope = waiver.scope
    if scope.subjects:
        names = [n for n in (subject.store_path, subject.name) if n]
        if not any(fnmatchcase(name, pattern) for name in names for pattern in scope.subjects):
            return False
    return not scope.hosts or bool(subject.host and any(fnmatchcase(subject.host, p) for p in scope.hosts))


def _waiver_problem(waiver: Waiver, policy: Policy, now: datetime) -> str | None:
    if now < waiver.created:
        return f"waiver {waiver.id} is not valid before {isoformat(waiver.created)}"
    if now >= waiver.expires:
        return f"waiver {waiver.id} expired on {isoformat(waiver.expires)}"
    if policy.require_waiver_approver and not waiver.approver.strip():
        return f"waiver {waiver.id} has no approver"
    if policy.max_waiver_days is not None and (waiver.expires - waiver.created).days > policy.max_waiver_days:
        return f"waiver {waiver.id} lasts longer than the policy's {policy.max_waiver_days} days"
    return None


def apply_waivers(assessment: Assessment, waivers: list[Waiver], policy: Policy) -> Assessment:
    """Turn failures into waived where a waiver in force and in scope covers them; expired or out-of-scope waivers are noted, never applied."""
    now = assessment.created
    by_control: dict[str, list[Waiver]] = {}
    for waiver in waivers:
        by_control.setdefault(waiver.control, []).append(waiver)
    results: list[ControlResult] = []
    for result in assessment.results:
        candidates = [w for w in by_control.get(result.control_id, []) if _in_scope(w, assessment.subject)]
        if not candidates or result.status not in {s for w in candidates for s in w.covers}:
            results.append(result)
            continue
        notes = list(result.notes)
        applied: WaiverApplied | None = None
        for waiver in candidates:
            if result.status not in waiver.covers:
                continue
            problem = _waiver_problem(waiver, policy, now)
            if problem:
                notes.append(problem + ": it does not waive")
                continue
            applied = WaiverApplied(
                id=waiver.id,
                reason=waiver.reason,
                approver=waiver.approver,
                risk=waiver.risk,
                expires=waiver.expires,
                covered_status=result.status,
            )
            break
        if applied is None:
            results.append(result.model_copy(update={"notes": notes}))
        else:
            results.append(result.model_copy(update={"status": Status.WAIVED, "waiver": applied, "notes": notes}))
    return assessment.model_copy(update={"results": results})


def decide(assessment: Assessment, policy: Policy) -> Decision:
    """The gate decision: which results block under the policy and which are only reported."""
    blocking: list[Reason] = []
    non_blocking: list[Reason] = []
    block_severities = set(policy.block_severities)
    for result in assessment.results:
        reason = Reason(control_id=result.control_id, status=result.status, severity=result.severity, message=result.message)
        if result.control_id in policy.never_block:
            if result.status not in (Status.PASS, Status.NOT_APPLICABLE):
                non_blocking.append(reason)
            continue
        forced = result.control_id in policy.block_controls
        if result.status is Status.FAIL:
            (blocking if forced or result.severity in block_severities else non_blocking).append(reason)
        elif result.status is Status.ERROR:
            (blocking if policy.errors_block or forced else non_blocking).append(reason)
        elif result.status is Status.MANUAL:
            (blocking if policy.manual_blocks else non_blocking).append(reason)
        elif result.status is Status.WAIVED:
            waiver = result.waiver
            text = f"waived by {waiver.id} (approver {waiver.approver or 'none'}, expires {isoformat(waiver.expires)})" if waiver else "waived"
            non_blocking.append(reason.model_copy(update={"message": text}))
    total = len(assessment.results)
    if total == 0:
        blocking.append(Reason(message="no control was selected: nothing was checked"))
    else:
        decided = sum(1 for r in assessment.results if r.status in DECIDED)
        if decided / total < policy.min_decided:
            blocking.append(
                Reason(message=f"only {decided} of {total} controls reached a decision; the policy needs {policy.min_decided:.0%}")
            )
    passed = not blocking
    return Decision(
        passed=passed,
        verdict="pass" if passed else "fail",
        policy_digest=policy_digest(policy),
        blocking=blocking,
        non_blocking=non_blocking,
        counts=assessment.counts(),
    )


def _waiver_outcome(waiver: Waiver, assessment: Assessment) -> WaiverUse:
    result = next((r for r in assessment.results if r.control_id == waiver.control), None)
    base = {"id": waiver.id, "control": waiver.control, "approver": waiver.approver, "expires": waiver.expires}
    if result is None:
        return WaiverUse(**base, applied=False, outcome=f"not used: {waiver.control} was not selected")
    if result.waiver is not None and result.waiver.id == waiver.id:
        return WaiverUse(**base, applied=True, outcome=f"waived {waiver.control} ({result.waiver.covered_status.value})")
    refused = next((n for n in result.notes if n.startswith(f"waiver {waiver.id} ")), None)
    if refused is not None:
        return WaiverUse(**base, applied=False, outcome=refused)
    if not _in_scope(waiver, assessment.subject):
        return WaiverUse(**base, applied=False, outcome="not used: the subject is outside its scope")
    return WaiverUse(**base, applied=False, outcome=f"not needed: {waiver.control} is {result.status.value}")


def _source_label(source: str) -> str:
    return "catalog default" if source == "default" else f"profile {source}"


def policy_applied(assessment: Assessment, decision: Decision, policy: Policy, waivers: list[Waiver], source: str | None) -> PolicyApplied:
    """The record of what decided the verdict (see :class:`PolicyApplied`)."""
    parameters = [
        ParameterUse(control_id=r.control_id, name=name, value=value, source=_source_label(r.param_sources.get(name, "default")))
        for r in sorted(assessment.results, key=lambda r: r.control_id)
        for name, value in sorted(r.params.items())
    ]
    return PolicyApplied(
        source=source or "defaults (no --policy)",
        digest=decision.policy_digest,
        settings=policy,
        summary=policy_sentence(policy),
        explanation=explain(decision, policy),
        waivers=[_waiver_outcome(w, assessment) for w in waivers],
        parameters=parameters,
    )
