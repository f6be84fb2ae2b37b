"""What a verified report says, whatever its kind, and the classes of evidence a host can have.

Both readers (this tool's probe reports, nixfleet-compliance's evidence.json) turn a
verified document into one :class:`Evidence`; everything downstream (binding, freshness,
the policy) reads only that, and sees through ``binds`` what a kind of report cannot
vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from compliance.models.common import Severity, Status


class ReportKind(StrEnum):
    PROBE_REPORT = "probe-report"  # compliance probe: DSSE, ECDSA P-256
    NIXFLEET = "nixfleet-evidence"  # nixfleet-compliance evidence.json + .sig: JCS, ed25519


class Binding(StrEnum):
    """What a report can be held to. A probe report binds all of them; nixfleet's
    evidence.json only the host name and the time."""

    HOST = "host"
    TIME = "time"
    NONCE = "nonce"
    CLOSURE = "closure"
    MACHINE_ID = "machine_id"
    BOOT_ID = "boot_id"


class EvidenceStatus(StrEnum):
    """A host's evidence (or one report's), from the best to the worst kinds of trouble."""

    VALID = "valid"  # verified, bound to this wave, host and closure, fresh
    MISSING = "missing"  # no report
    STALE = "stale"  # older than the policy's maximum age
    NOT_YET_FRESH = "not_yet_fresh"  # taken before activated_at + min_soak
    BINDS_LESS = "binds_less"  # verified nixfleet evidence the policy does not accept here
    WRONG_CLOSURE = "wrong_closure"  # the host runs another closure
    FUTURE = "future"  # dated after the decision, beyond the allowed clock skew
    WRONG_NONCE = "wrong_nonce"  # a report of another wave
    WRONG_HOST = "wrong_host"  # verifies with the host's key, but names another host or machine
    INVALID = "invalid"  # does not verify with the host's key, or is not a well-formed report
    DUPLICATED = "duplicated"  # several different reports for one host and nonce
    UNKNOWN_HOST = "unknown_host"  # names a host the wave does not list
    UNREADABLE = "unreadable"  # not a report of a known kind (garbage, truncated, too large)


# No usable evidence, but nothing suspicious either: the share of hosts that must have
# reported decides whether the wave waits for them.
ABSENT = frozenset({EvidenceStatus.MISSING, EvidenceStatus.STALE, EvidenceStatus.NOT_YET_FRESH, EvidenceStatus.BINDS_LESS})
# Evidence that should not exist in this form: the policy's invalid_evidence applies.
SUSPICIOUS = frozenset({EvidenceStatus.FUTURE, EvidenceStatus.WRONG_NONCE, EvidenceStatus.WRONG_HOST,
                        EvidenceStatus.INVALID, EvidenceStatus.DUPLICATED})


@dataclass(frozen=True)
class ControlOutcome:
    """One control's result as the report states it. ``severity`` is ``None`` for
    nixfleet controls, which have none."""

    control_id: str
    status: Status
    message: str
    severity: Severity | None = None
    title: str | None = None


@dataclass(frozen=True)
class Evidence:
    """A verified report, reduced to what the gate judges."""

    kind: ReportKind
    host: str
    created: datetime
    report_id: str
    signer: str
    binds: frozenset[Binding]
    controls: tuple[ControlOutcome, ...]
    nonce: str | None = None
    machine_id: str | None = None
    boot_id: str | None = None
    running_closure: str | None = None
    transport: str | None = None  # a probe report's: local, ssh or offline-root
