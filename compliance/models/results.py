"""Results of an assessment and the gate's decision: what every format renders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from compliance.models.attestation import AttestationOutcome
from compliance.models.common import Record, Severity, Status
from compliance.models.control import CheckKind, Citation, Scope
from compliance.models.frameworks import FrameworkId
from compliance.models.policy import Policy
from compliance.models.subject import InputRef

RESULTS_SCHEMA = "https://compliance-gate.dev/schemas/results/v1"


class CheckResult(Record):
    """One check's outcome: its status, why, and the observed values that decided it."""
    kind: CheckKind
    function: str
    status: Status
    message: str
    observed: dict[str, Any] = {}


class WaiverApplied(Record):
    """The waiver that turned a control's failure into waived, as recorded in the results."""
    id: str
    reason: str
    approver: str
    risk: str
    expires: datetime
    covered_status: Status  # what the control would have been without the waiver


class SourceLocation(Record):
    """Where in the repository a result can be placed: the Nix file and line defining an
    option it read, flake.lock, or the input file it judged. ``uri`` is relative to the
    folder the gate ran in (``uri_base`` "SRCROOT") when the file is inside it, else
    absolute (no ``uri_base``)."""

    uri: str
    uri_base: str | None = None
    line: int | None = None
    kind: str  # "nixos-option" | "flake-lock" | "sbom" | "closure" | "facts" | "vulnerabilities" | "kernel-config"
    option: str | None = None  # the NixOS option defined there


class ControlResult(Record):
    """One control's outcome for one assessment, with its checks, parameters (and where they came from) and any waiver."""
    control_id: str
    title: str
    severity: Severity
    status: Status
    message: str
    checks: list[CheckResult] = []
    clauses: dict[FrameworkId, list[str]] = {}
    # What the control claims of each clause: the checks, the scope and the sentence.
    citations: list[Citation] = []
    params: dict[str, Any] = {}
    param_sources: dict[str, str] = {}  # parameter → "default" or the profile that set it
    remediation: dict[str, Any] | None = None
    waiver: WaiverApplied | None = None
    notes: list[str] = []  # e.g. "waiver W-3 expired on ..." (an expired waiver does not waive)
    locations: list[SourceLocation] | None = None  # where to place it, most precise first


class SubjectRef(Record):
    """What the assessment is about; what the signed statement binds to."""

    kind: str = "nix-closure"  # "nix-closure" | "host"
    name: str | None = None
    store_path: str | None = None
    nar_sha256: str | None = None  # hex
    commit: str | None = None
    host: str | None = None
    machine_id: str | None = None
    boot_id: str | None = None


class Counts(Record):
    """How many controls ended in each status."""
    total: int = 0
    by_status: dict[Status, int] = {}


class ClauseStanding(StrEnum):
    """How one clause stands after an assessment (PRODUCT.md, "What a clause standing
    means"), worst first after ``failed``: only ``satisfied`` says the clause was shown."""

    FAILED = "failed"  # a supporting control failed or errored
    WAIVED = "waived"  # a supporting control fails under a waiver: never satisfied
    NEEDS_RUNTIME = "needs-runtime-evidence"  # what evidences it is a probe this static gate did not run
    NEEDS_STATIC = "needs-static-evidence"  # what evidences it is a release check this probe did not run
    PARTIAL = "partial"  # checks passed, but they test part of the clause, under laxer parameters, or an attestation awaits
    UNCOVERED = "uncovered"  # nothing in the assessment evidences it
    ATTESTED = "attested"  # a valid signed attestation answers it: a person vouches, no machine checked
    SATISFIED = "satisfied"  # a full-scope citation's checks ran and passed under strict enough parameters

    @property
    def shown(self) -> bool:
        return self is ClauseStanding.SATISFIED


class CitationStanding(Record):
    """One control's claim on a clause and what the assessment made of it."""

    control_id: str
    refs: list[str]  # the references under the clause the control cites ("CIR 6.7.2(c)")
    checks: list[str]  # the check functions named ([] for an attestation)
    scope: Scope
    evidences: str
    status: Status | None = None  # the control's status; None when the assessment did not run it
    evidenced: bool  # its checks ran and passed (or its attestation counts) under strict enough parameters
    pending: bool = False  # its checks are of the other mode (a probe in a static gate): not run here
    reason: str  # why it does or does not evidence the clause


class ClauseResult(Record):
    """The standing of one clause of one framework, with the citations that decided it."""

    framework: FrameworkId
    clause: str
    title: str | None = None
    level: str | None = None
    standing: ClauseStanding
    reason: str
    citations: list[CitationStanding] = []
    attestations: list[str] = []


class Assessment(Record):
    """Every control's result for one subject, at one time, with the tool, catalog and profiles that produced it."""
    schema_: str = Field(default=RESULTS_SCHEMA, alias="$schema")
    id: str
    created: datetime
    tool: str
    tool_version: str
    mode: CheckKind
    subject: SubjectRef
    profiles: list[str]
    frameworks: list[FrameworkId]
    catalog_digest: str
    inputs: list[InputRef] = []
    notes: list[str] = []  # facts about how the assessment was made ("SBOM generated from the closure")
    results: list[ControlResult]
    # Manual attestations given to the gate, each with whether it counts and why not;
    # absent when none was given.
    attestations: list[AttestationOutcome] | None = None
    # The standing of every clause of the frameworks the profiles report on, decided
    # once (after waivers and attestations) so that every view shows the same.
    clause_standings: list[ClauseResult] | None = None

    def counts(self) -> Counts:
        by: dict[Status, int] = {}
        for result in self.results:
            by[result.status] = by.get(result.status, 0) + 1
        return Counts(total=len(self.results), by_status=by)


class Reason(Record):
    """One reason behind a gate decision: a control (or the policy) and why it blocks or not."""
    control_id: str | None = None
    status: Status | None = None
    severity: Severity | None = None
    message: str


class Decision(Record):
    """The gate's verdict. ``passed`` is False whenever anything blocking happened."""

    passed: bool
    verdict: str  # "pass" | "fail"
    policy_digest: str
    blocking: list[Reason] = []
    non_blocking: list[Reason] = []
    counts: Counts


class WaiverUse(Record):
    """One waiver the gate was given and what became of it."""

    id: str
    control: str
    approver: str
    expires: datetime
    applied: bool
    outcome: str  # "waived IA-08 (fail)", "expired on …: it does not waive", "not needed: IA-08 is pass"


class ParameterUse(Record):
    """One parameter a control ran with, and where its value came from."""

    control_id: str
    name: str
    value: Any = None  # null when the parameter is unset (no limit, none given)
    source: str  # "catalog default" or "profile <id>"


class PolicyApplied(Record):
    """What decided the verdict, written into every packet: the effective policy with its
    defaults, where it came from, the waivers given and what became of each, and the
    parameters each control ran with and their sources. ``digest`` is the decision's
    ``policy_digest`` (sha256 of the canonical JSON of ``settings``)."""

    source: str  # the policy file given, or "defaults (no --policy)"
    digest: str
    settings: Policy
    summary: str  # "the policy blocks critical and high failures and errors"
    explanation: str  # "PASS: 2 failures below the blocking threshold; the policy blocks …"
    waivers: list[WaiverUse] = []
    parameters: list[ParameterUse] = []


class GateReport(Record):
    """results.json: the assessment together with the decision the policy gave, and the
    policy applied (absent only in reports written before it was recorded)."""

    schema_: str = Field(default=RESULTS_SCHEMA, alias="$schema")
    assessment: Assessment
    decision: Decision
    policy: PolicyApplied | None = None
