"""The decision ``compliance promote`` writes: promote, hold or roll back, with every host
and control behind it.

It is a self-contained record a control plane can keep as evidence: the wave and policy
it was decided under (the policy in full, the wave by digest), each host's evidence with
the file, digest and id of every report looked at, and each finding with its host,
control and severity. Same inputs and same time (``SOURCE_DATE_EPOCH``) give the same
bytes. Published as ``evidence/decision.schema.json``; signed, it is the payload of a
DSSE envelope of type :data:`DECISION_PAYLOAD_TYPE`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from compliance.models.common import Record, Severity, Status
from compliance.promote.host_evidence import Binding, EvidenceStatus, ReportKind
from compliance.promote.promotion_policy import Action, PromotionPolicy
from compliance.util.canonical import canonical_json

DECISION_SCHEMA = "https://compliance-gate.dev/schemas/wave-decision/v1"
DECISION_PAYLOAD_TYPE = "application/vnd.compliance-gate.wave-decision.v1+json"


class Verdict(StrEnum):
    PROMOTE = "promote"
    HOLD = "hold"
    ROLLBACK = "rollback"

    @property
    def exit_code(self) -> int:
        """The CLI contract: 0 promote, 1 roll back, 3 hold."""
        return {Verdict.PROMOTE: 0, Verdict.ROLLBACK: 1, Verdict.HOLD: 3}[self]


class HostOutcome(StrEnum):
    CLEAR = "clear"  # valid evidence, nothing against promoting
    TOLERATED = "tolerated"  # no usable evidence, within the share the policy lets go missing
    HOLD = "hold"
    ROLLBACK = "rollback"


class Finding(Record):
    """One reason, and what it does to the wave."""

    action: Action
    message: str
    host: str | None = None
    control_id: str | None = None
    severity: Severity | None = None
    status: Status | None = None
    evidence: EvidenceStatus | None = None
    file: str | None = None


class ReportRef(Record):
    """One file of the reports folder, as the gate classified it."""

    file: str = Field(description="path relative to the reports folder")
    sha256: str
    status: EvidenceStatus
    message: str
    kind: ReportKind | None = None
    claimed_host: str | None = None
    report_id: str | None = None
    created: datetime | None = None
    signer: str | None = None


class HostDecision(Record):
    name: str
    canary: bool
    expected_closure: str
    evidence: EvidenceStatus
    outcome: HostOutcome
    kind: ReportKind | None = None
    binds: list[Binding] = Field(default=[], description="what the judged report is bound to")
    report_id: str | None = None
    created: datetime | None = None
    running_closure: str | None = None
    boot_id: str | None = None
    controls: dict[Status, int] = Field(default={}, description="the judged report's controls by status")
    findings: list[Finding] = []
    reports: list[ReportRef] = Field(default=[], description="every file attributed to this host")


class Coverage(Record):
    """How many hosts of a group have valid evidence, against what the policy needs."""

    group: str = Field(description="canaries | hosts")
    hosts: int
    valid: int
    needed: int


class Summary(Record):
    hosts: int
    canaries: int
    valid: int
    nixfleet: int = Field(description="hosts whose valid evidence is nixfleet's, which binds less")
    by_evidence: dict[EvidenceStatus, int]
    coverage: list[Coverage]


class WaveDecision(Record):
    model_config = ConfigDict(title="WaveDecision")

    schema_: str = Field(default=DECISION_SCHEMA, alias="$schema")
    verdict: Verdict
    exit_code: int
    wave: str
    nonce: str
    decided_at: datetime
    activated_at: datetime | None = None
    tool: str
    tool_version: str
    wave_digest: str = Field(description="sha256 of the wave file's canonical JSON")
    policy_digest: str = Field(description="sha256 of the policy's canonical JSON")
    policy: PromotionPolicy
    summary: Summary
    reasons: list[Finding] = Field(description="every finding that holds or rolls back, rollbacks first")
    notes: list[Finding] = Field(description="findings that block nothing")
    hosts: list[HostDecision]
    unattributed: list[ReportRef] = Field(description="files no host of the wave can be held to")


def decision_schema() -> dict[str, object]:
    body = WaveDecision.model_json_schema(by_alias=True, mode="serialization")
    body.pop("title", None)
    return body


def decision_json(decision: WaveDecision) -> bytes:
    """Canonical JSON (RFC 8785), newline-terminated (the DSSE payload is the same
    without the newline)."""
    return canonical_json(decision.to_jsonable()) + b"\n"
