"""A wave decision as the events nixfleet's control plane blocks waves on.

nixfleet's reconciler decides promotion itself: under ``enforce`` it holds every later
wave while a host of this or an earlier wave has outstanding ``compliance-failure`` or
``runtime-gate-error`` events for the rollout (counted per host, distinct by control id
or by reason). This turns each reason of a decision that names a host into one such
event, in nixfleet's wire shape (``ReportRequest``: ``hostname``, ``agentVersion``,
``occurredAt``, ``rollout``, and the event as ``{"event": <kebab-case kind>, "details":
{…}}`` with snake_case detail fields):

* a control that failed or could not be decided → ``compliance-failure`` (status
  ``non-compliant`` or ``error``, the finding as ``evidence_snippet``);
* evidence that is missing, stale, forged, of another wave, … → ``runtime-gate-error``
  (the reason says which; nixfleet treats it as a confirm blocker).

A promote decision gives no event: nothing outstanding. Findings that name no host (too
few canaries reported) have no host to post for; the hosts behind them have their own.
The events are unsigned (the control machine does not hold the hosts' SSH keys):
nixfleet counts unsigned events, refusing only mismatching or malformed signatures,
and takes them from the host's mTLS identity (one POST ``/v1/agent/report`` per line).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from compliance import __version__
from compliance.models.common import Status
from compliance.promote.wave_decision import Finding, HostDecision, WaveDecision
from compliance.util.canonical import canonical_json
from compliance.util.clock import isoformat

AGENT_VERSION = f"compliance-gate/{__version__}"
MAX_REASON = 512


def _event(decision: WaveDecision, host: HostDecision | None, finding: Finding) -> dict[str, Any]:
    assert finding.host is not None
    activated = decision.activated_at or decision.decided_at
    collected: datetime | None = host.created if host is not None else None
    details: dict[str, Any]
    if finding.control_id is not None and finding.status is not None:
        kind = "compliance-failure"
        snippet = {"action": finding.action.value, "message": finding.message[:MAX_REASON], "status": finding.status.value}
        if finding.severity is not None:
            snippet["severity"] = finding.severity.value
        details = {
            "control_id": finding.control_id,
            "status": "non-compliant" if finding.status is Status.FAIL else "error",
            "framework_articles": [],
            "evidence_snippet": snippet,
            "evidence_collected_at": isoformat(collected or decision.decided_at),
        }
    else:
        kind = "runtime-gate-error"
        prefix = f"{finding.evidence.value}: " if finding.evidence is not None else ""
        details = {"reason": (prefix + finding.message)[:MAX_REASON], "activation_completed_at": isoformat(activated)}
        if collected is not None:
            details["evidence_collected_at"] = isoformat(collected)
    return {
        "hostname": finding.host,
        "agentVersion": AGENT_VERSION,
        "occurredAt": isoformat(decision.decided_at),
        "rollout": decision.wave,
        "event": kind,
        "details": details,
    }


def nixfleet_events(decision: WaveDecision) -> list[dict[str, Any]]:
    """One event per host and blocking reason, in the decision's order, each once."""
    hosts = {h.name: h for h in decision.hosts}
    events: list[dict[str, Any]] = []
    seen: set[str] = set()
    for finding in decision.reasons:
        if finding.host is None:
            continue
        event = _event(decision, hosts.get(finding.host), finding)
        key = canonical_json([event["hostname"], event["event"], event["details"].get("control_id") or event["details"]["reason"]]).decode()
        if key not in seen:
            seen.add(key)
            events.append(event)
    return events


def nixfleet_events_jsonl(decision: WaveDecision) -> bytes:
    """The events as JSON Lines (canonical JSON, one ReportRequest per line)."""
    return b"".join(canonical_json(event) + b"\n" for event in nixfleet_events(decision))
