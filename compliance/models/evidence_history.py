"""Evidence over time: what changed between two packets (or two probe reports of one host),
and the line of releases an auditor reads as a trend.

These are written documents (``compliance evidence diff --format json``, ``compliance
evidence log --format json``) with published JSON Schemas, and the data the report's
"Changes since the previous release" section renders. They live with the models because
the report, the formats and the evidence layer all read them; the diff itself is computed
in :mod:`compliance.evidence.packet_diff`.

Every list is sorted by a stable key, so the same two packets give the same document.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from compliance.models.common import Record, Severity, Status

DIFF_SCHEMA = "https://compliance-gate.dev/schemas/evidence-diff/v1"
LOG_SCHEMA = "https://compliance-gate.dev/schemas/evidence-log/v1"


class DiffKind(StrEnum):
    """What the two sides are: releases compare closures and vulnerabilities, reports compare a host."""

    PACKET = "packet"  # two evidence packets (releases)
    PROBE = "probe-report"  # two signed probe reports of one host (drift)


class ControlChangeKind(StrEnum):
    """What happened to a control between the two, one kind per control (the first that applies)."""

    NEWLY_FAILING = "newly_failing"  # was not fail/error (or absent), now fail/error
    FIXED = "fixed"  # was fail/error, now pass or not applicable
    NEWLY_WAIVED = "newly_waived"  # now waived, was not
    WAIVER_EXPIRED = "waiver_expired"  # was waived, the waiver expired
    WAIVER_REMOVED = "waiver_removed"  # was waived, no waiver applies any more (none expired)
    STATUS_CHANGED = "status_changed"  # any other change of status (pass → manual, ...)
    ADDED = "added"  # assessed only in the newer one (not failing)
    REMOVED = "removed"  # assessed only in the older one


class VulnChangeKind(StrEnum):
    """What happened to one finding (a vulnerability in a component) between the two."""

    NEW = "new"  # reported only in the newer one
    FIXED = "fixed"  # reported only in the older one
    NEWLY_SUPPRESSED_BY_VEX = "newly_suppressed_by_vex"  # reported in both, a VEX statement now suppresses it
    VERDICT_CHANGED = "verdict_changed"  # reported in both, judged otherwise


class PackageChangeKind(StrEnum):
    """What happened to a package name of the closure, by its versions."""

    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    CHANGED = "changed"  # versions neither all higher nor all lower (several outputs, no version)
    ADDED = "added"
    REMOVED = "removed"


class EvidenceRef(Record):
    """One side of a diff: which document it is, and whether its signature was checked."""

    source: str = Field(description="the file or directory as given")
    id: str = Field(description="packet id, or probe report id")
    created: datetime
    verdict: str | None = Field(default=None, description="the gate's verdict (packets only)")
    subject: str | None = Field(default=None, description="the release's top-level store path, or the host's running closure")
    verified: bool = Field(description="False only under --no-verify: nothing vouches for this side")
    key_fingerprint: str | None = None


class ValueChange(Record):
    """A scalar that changed: a verdict, a digest, a parameter, an option, a host fact."""

    name: str
    old: Any = None
    new: Any = None


class ControlChange(Record):
    """A control whose status (or waiver) changed, with the newer message to say why."""

    control_id: str
    title: str
    severity: Severity
    kind: ControlChangeKind
    old_status: Status | None = None
    new_status: Status | None = None
    waiver: str | None = Field(default=None, description="the waiver behind a waiver change")
    message: str = Field(description="the newer result's message (the older one's for a removed control)")


class ObservedChange(Record):
    """One observed value of a check that differs (a sysctl value, the open ports, ...)."""

    control_id: str
    check: str = Field(description="the check's function name")
    path: list[str] = Field(description="keys from the check's observed values down to the value")
    old: Any = None
    new: Any = None
    absent_before: bool = False
    absent_after: bool = False


class ParamChange(Record):
    """A parameter of a control whose value or source (default, or the profile that set it) changed."""

    control_id: str
    param: str
    old: Any = None
    new: Any = None
    old_source: str | None = None
    new_source: str | None = None


class OptionChange(Record):
    """A NixOS option of the configuration facts (dotted path, as ``compliance facts`` writes it)."""

    option: str
    old: Any = None
    new: Any = None
    absent_before: bool = False
    absent_after: bool = False


class PackageChange(Record):
    """A package whose versions in the closure changed (versions in Nix's order)."""

    name: str
    kind: PackageChangeKind
    old_versions: list[str] = []
    new_versions: list[str] = []


class ClosureChanges(Record):
    """The closure's difference: store paths, packages by name, and the kernel."""

    compared: bool = Field(description="False when either side keeps no copy of its closure (digest only)")
    old_paths: int = 0
    new_paths: int = 0
    added: list[str] = Field(default=[], description="store paths only in the newer closure")
    removed: list[str] = Field(default=[], description="store paths only in the older closure")
    packages: list[PackageChange] = []
    kernel: ValueChange | None = Field(default=None, description="the Linux kernel version(s) the closure ships")


class VulnChange(Record):
    """A finding whose verdict changed, appeared or went; ``blocking`` is what gates."""

    id: str
    component: str
    kind: VulnChangeKind
    old_verdict: str | None = None
    new_verdict: str | None = None
    severity: str | None = None
    cvss: float | None = None
    blocking: bool = Field(description="blocking in the newer one")


class ClauseChange(Record):
    """A framework clause whose standing changed."""

    framework: str
    clause: str
    old: str | None = Field(default=None, description="standing in the older one (None: not listed)")
    new: str | None = None


class ObservationChange(Record):
    """A raw answer of the host whose content changed (probe reports: by target, digest only)."""

    target: str
    kind: str
    old_sha256: str | None = None
    new_sha256: str | None = None
    old_status: str | None = None
    new_status: str | None = None


class EvidenceDiff(Record):
    """What changed from ``old`` to ``new``. Empty (every list empty) when nothing did."""

    schema_: str = Field(default=DIFF_SCHEMA, alias="$schema")
    kind: DiffKind
    old: EvidenceRef
    new: EvidenceRef
    regression: bool = Field(description="a control newly failing, or a new blocking vulnerability")
    regressions: list[str] = Field(default=[], description="one line per regression")
    identity: list[ValueChange] = Field(
        default=[], description="verdict, profiles, policy and catalog digests, subject, host facts that changed"
    )
    controls: list[ControlChange] = []
    observed: list[ObservedChange] = []
    params: list[ParamChange] = []
    options: list[OptionChange] = []
    closure: ClosureChanges | None = None
    vulnerabilities: list[VulnChange] = []
    clauses: list[ClauseChange] = []
    observations: list[ObservationChange] = []
    notes: list[str] = Field(default=[], description="what the diff could not compare, and why")

    @property
    def empty(self) -> bool:
        closure = self.closure
        closure_empty = closure is None or not (closure.added or closure.removed or closure.packages or closure.kernel)
        return closure_empty and not (
            self.identity or self.controls or self.observed or self.params or self.options
            or self.vulnerabilities or self.clauses or self.observations
        )


class FrameworkStanding(Record):
    """How many clauses of a framework stand in each state, for one release."""

    framework: str
    counts: dict[str, int] = Field(description="clause standing → number of clauses")


class LogEntry(Record):
    """One release of the log."""

    source: str
    packet_id: str
    created: datetime
    subject: str | None = None
    verdict: str
    verified: bool
    failing: list[str] = Field(description="controls that fail or error")
    waived: list[str]
    blocking_vulnerabilities: list[str] = Field(description="'ID component', as the results list them")
    clauses: list[FrameworkStanding]


class EvidenceLog(Record):
    """The releases of ``compliance evidence log``, oldest first."""

    schema_: str = Field(default=LOG_SCHEMA, alias="$schema")
    releases: list[LogEntry] = Field(description="oldest first (by creation time, then packet id)")
