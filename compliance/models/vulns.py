"""Vulnerability data, whatever scanner or VEX format it came from.

Every reader (vulnix, grype, trivy, osv-scanner, CycloneDX, OpenVEX, CVENix, the CISA
KEV catalogue, exception files) produces these models, so that matching and the
vulnerability controls never look at a scanner's own format. A finding keeps what it was
reported against (store path, derivation, purl, name and version, a CycloneDX bom-ref):
which of those identify a store path of the closure is decided later, by matching.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import cached_property

from pydantic import Field

from compliance.models.common import Strict


class VulnSeverity(StrEnum):
    """A scanner's qualitative severity, normalised. ``unknown`` is never "low"."""

    UNKNOWN = "unknown"
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {s: i for i, s in enumerate(VulnSeverity)}


class CvssScore(Strict):
    """One CVSS rating as a source gave it (a finding may carry several)."""

    version: str  # "2.0", "3.0", "3.1", "4.0"
    score: float
    vector: str | None = None
    source: str | None = None

    @cached_property
    def major(self) -> int:
        head = self.version.split(".", 1)[0]
        return int(head) if head.isdigit() else 0


class ComponentRef(Strict):
    """What a finding, a VEX statement or an exception is about, as its document names it.

    Any subset may be known; matching tries the most precise identity first (store path,
    then derivation, purl, name and version, bom-ref).
    """

    name: str | None = None
    version: str | None = None
    purl: str | None = None
    store_path: str | None = None
    derivation: str | None = None
    ref: str | None = None  # a CycloneDX bom-ref, resolved against the SBOM when possible

    @property
    def label(self) -> str:
        if self.store_path:
            return self.store_path
        if self.purl:
            return self.purl
        if self.name:
            return f"{self.name}@{self.version}" if self.version else self.name
        return self.derivation or self.ref or "(unnamed component)"


class Finding(Strict):
    """One vulnerability reported against one component by one report."""

    id: str
    aliases: tuple[str, ...] = ()
    component: ComponentRef
    severity: VulnSeverity = VulnSeverity.UNKNOWN
    cvss: tuple[CvssScore, ...] = ()
    fixed_versions: tuple[str, ...] = ()
    known_exploited: bool | None = None  # None: the report does not say
    title: str | None = None
    scanner: str  # the format that reported it: "vulnix", "grype", ...
    source: str  # the report file
    scanned_at: datetime | None = None
    # The scanner itself hid this finding (a vulnix whitelist entry, a grype ignore rule):
    # the gate does not honour that, it needs a recorded exception or a VEX statement.
    suppressed_by_scanner: bool = False

    @cached_property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    @cached_property
    def best_cvss(self) -> CvssScore | None:
        """The highest CVSS v3 or v4 base score; v2 only when nothing newer is known."""
        modern = [c for c in self.cvss if c.major >= 3]
        pool = modern or list(self.cvss)
        return max(pool, key=lambda c: c.score) if pool else None


class VexStatus(StrEnum):
    """A VEX statement's status for a vulnerability in a product."""
    NOT_AFFECTED = "not_affected"
    AFFECTED = "affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"


class VexStatement(Strict):
    """A VEX statement: the status of one vulnerability in some products.

    A statement always names its products: one that named none would hide the
    vulnerability everywhere, so readers refuse it.
    """

    vulnerability: str
    aliases: tuple[str, ...] = ()
    products: tuple[ComponentRef, ...] = Field(min_length=1)
    status: VexStatus
    justification: str | None = None
    impact_statement: str | None = None
    action_statement: str | None = None
    author: str | None = None
    timestamp: datetime | None = None
    format: str
    source: str

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.vulnerability, *self.aliases)


class VulnException(Strict):
    """A recorded, time-bound acceptance of a vulnerability that is not fixed.

    Fields are optional so that an incomplete exception is read and then judged (SC-03
    fails naming what is missing) instead of vanishing as an unreadable file.
    """

    id: str
    vulnerability: str
    component: ComponentRef | None = None
    reason: str = ""
    compensating_measure: str = ""
    owner: str = ""
    approver: str = ""
    created: datetime | None = None
    expires: datetime | None = None
    source: str


class ReportRole(StrEnum):
    """What a vulnerability document contributes: findings, VEX statements, exceptions or a known-exploited catalogue."""
    SCAN = "scan"  # findings from a scanner
    VEX = "vex"  # statements only
    EXCEPTIONS = "exceptions"
    KNOWN_EXPLOITED = "known_exploited"  # a catalogue such as CISA KEV


class ReportInfo(Strict):
    """One input file: what it is and when its data was produced."""

    source: str
    format: str
    role: ReportRole
    tool: str | None = None
    tool_version: str | None = None
    target: str | None = None  # what the scanner was pointed at, when it says
    scanned_at: datetime | None = None
    database_updated: datetime | None = None  # age of the vulnerability data it used
    findings: int = 0
    statements: int = 0


class VulnerabilityData(Strict):
    """Everything ``--vulns`` gave, merged: the subject's vulnerability part."""

    reports: tuple[ReportInfo, ...]
    findings: tuple[Finding, ...] = ()
    vex: tuple[VexStatement, ...] = ()
    exceptions: tuple[VulnException, ...] = ()
    known_exploited: frozenset[str] = frozenset()  # ids listed by a known-exploited catalogue

    @property
    def scan_reports(self) -> tuple[ReportInfo, ...]:
        return tuple(r for r in self.reports if r.role is ReportRole.SCAN)
