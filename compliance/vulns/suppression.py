"""When a vulnerability exception is acceptable: justified, owned, approved, time-bound.

One function states every rule; the known-vulnerability gate applies the minimum (a
reason, an owner, an approver, in force now) before an exception may hide a finding, and
the exceptions control applies the organisation's full rules and fails on any breach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from compliance.models.vulns import VulnException
from compliance.util.clock import isoformat


@dataclass(frozen=True)
class ExceptionRules:
    """What an exception must carry before it may hide a finding (approver, component, dates, measures)."""
    require_approver: bool = True
    require_component: bool = False
    require_created: bool = False
    require_compensating_measure: bool = False
    distinct_approver: bool = False  # four eyes: the owner does not approve their own exception
    max_days: int | None = None


# What the gate needs before an exception may hide a finding.
IN_FORCE = ExceptionRules()


def exception_problems(exception: VulnException, now: datetime, rules: ExceptionRules) -> list[str]:
    """Everything that makes ``exception`` unacceptable at ``now``; empty when it is acceptable."""
    problems: list[str] = []
    if not exception.reason:
        problems.append("no reason")
    if not exception.owner:
        problems.append("no owner")
    if rules.require_approver and not exception.approver:
        problems.append("no approver")
    elif rules.distinct_approver and exception.approver and exception.approver == exception.owner:
        problems.append("approved by its own owner")
    if rules.require_compensating_measure and not exception.compensating_measure:
        problems.append("no compensating measure")
    if rules.require_component and exception.component is None:
        problems.append("names no component")
    created, expires = exception.created, exception.expires
    if created is None:
        if rules.require_created:
            problems.append("no creation date")
    elif created > now:
        problems.append(f"not in force before {isoformat(created)}")
    if expires is None:
        problems.append("no expiry")
        return problems
    if expires <= now:
        problems.append(f"expired {isoformat(expires)}")
    if created is not None and expires <= created:
        problems.append("expires before it was created")
    elif rules.max_days is not None:
        # Without a creation date the exception is measured from now.
        start = created if created is not None else now
        days = (expires - start).total_seconds() / 86400
        if days > rules.max_days:
            problems.append(f"lasts {days:.0f} days (at most {rules.max_days})")
    return problems
