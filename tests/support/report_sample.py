"""A small gate report that exercises every part of the auditor's report.

Every status occurs; a failure carries observed values and a NixOS remediation, another a
list far longer than the report prints; a waiver names its approver and expiry; a manual
control is answered by a valid attestation while another attestation has expired; the
subject's store path is longer than a line of the page.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from compliance.catalog.loader import load_catalog
from compliance.models.attestation import AttestationOutcome, AttestationStatus
from compliance.models.common import Severity, Status
from compliance.models.control import CheckKind
from compliance.models.frameworks import FrameworkId
from compliance.models.results import (
    Assessment,
    CheckResult,
    ControlResult,
    Decision,
    GateReport,
    Reason,
    SubjectRef,
    WaiverApplied,
)
from compliance.models.subject import Component, InputRef, Sbom
from compliance.report import ReportContext

CREATED = datetime(2026, 11, 1, tzinfo=UTC)
STORE_PATH = (
    "/nix/store/qlg9vwl41fcmjvpcypf3y6s8g047524i-nixos-system-"
    + "payments-gateway-frankfurt-primary-" * 3
    + "24.11.20261030.5ef6c42"
)
NAR_SHA256 = "9f2c1a7be0d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c4b3a2"
KEY_FINGERPRINT = "SHA256:4b1e0c9d8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c"
PACKET_ID = "d69e049c-0aa9-532a-ad81-b33be30725b4"
MISSING = [f"/nix/store/{i:032d}-component-{i}" for i in range(100)]


def _check(function: str, status: Status, message: str, **observed: object) -> CheckResult:
    return CheckResult(kind=CheckKind.STATIC, function=function, status=status, message=message, observed=observed)


def sample_results() -> list[ControlResult]:
    return [
        ControlResult(
            control_id="HK-01", title="Kernel and filesystem sysctl baseline", severity=Severity.HIGH, status=Status.FAIL,
            message="kernel.kptr_restrict is 0, expected 2",
            checks=[_check("sysctl_baseline", Status.FAIL, "kernel.kptr_restrict is 0, expected 2",
                           not_as_expected={"kernel.kptr_restrict": {"expected": 2, "actual": 0}}, checked=5)],
            clauses={FrameworkId.NIS2: ["CIR 6.3.2(a)"], FrameworkId.ANSSI: ["R9"], FrameworkId.ISO27001: ["A.8.9"],
                     FrameworkId.DORA: ["RTS 11(2)(b)"]},
            params={"expected": {"kernel.kptr_restrict": 2}}, param_sources={"expected": "anssi-intermediary"},
            remediation={"nixos": {"boot.kernel.sysctl": {"kernel.kptr_restrict": 2}}, "text": "Set the values in boot.kernel.sysctl."},
        ),
        ControlResult(
            control_id="SC-06", title="SBOM covers every store path of the closure", severity=Severity.MEDIUM, status=Status.FAIL,
            message="100 store paths are missing from the SBOM",
            checks=[_check("sbom_coverage", Status.FAIL, "100 store paths are missing from the SBOM",
                           missing_store_paths=MISSING, closure_paths=4812)],
            clauses={FrameworkId.NIS2: ["Art.21(2)(d)", "CIR 6.1.2(c)"], FrameworkId.ISO27001: ["A.5.9"]},
            remediation={"nixos": {"services.openssh.settings.PasswordAuthentication": False}},
        ),
        ControlResult(
            control_id="SC-01", title="Known vulnerabilities are below the threshold", severity=Severity.CRITICAL,
            status=Status.ERROR, message="needs vulnerability reports (--vulns)",
            checks=[_check("known_vulnerabilities", Status.ERROR, "needs vulnerability reports (--vulns)")],
            clauses={FrameworkId.NIS2: ["CIR 6.10.2(b)"], FrameworkId.DORA: ["RTS 10(2)(b)"]},
        ),
        ControlResult(
            control_id="IA-02", title="SSH refuses password authentication", severity=Severity.HIGH, status=Status.WAIVED,
            message="PasswordAuthentication is yes",
            checks=[_check("nixos_options", Status.FAIL, "PasswordAuthentication is yes",
                           settings={"services.openssh.settings.PasswordAuthentication": True})],
            clauses={FrameworkId.NIS2: ["CIR 11.6.2(a)"], FrameworkId.ISO27001: ["A.8.5"]},
            waiver=WaiverApplied(id="W-7", reason="Bastion migration scheduled for December", approver="Jane Roe, CISO",
                                 risk="medium", expires=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), covered_status=Status.FAIL),
        ),
        ControlResult(
            control_id="CM-01", title="Changes are approved before release", severity=Severity.MEDIUM, status=Status.MANUAL,
            message="needs a signed attestation", clauses={FrameworkId.NIS2: ["CIR 6.4"]},
        ),
        ControlResult(
            control_id="NW-01", title="The firewall is enabled with default-deny inbound", severity=Severity.MEDIUM,
            status=Status.PASS, message="firewall enabled",
            checks=[_check("firewall", Status.PASS, "firewall enabled", enabled=True, tcp_ports=[22])],
            clauses={FrameworkId.NIS2: ["CIR 6.7.2(c)"], FrameworkId.ISO27001: ["A.8.20"]},
        ),
        ControlResult(
            control_id="SC-11", title="No denied package in the closure", severity=Severity.LOW, status=Status.NOT_APPLICABLE,
            message="no package denylist for this role", clauses={FrameworkId.ANSSI: ["R58"]},
        ),
    ]


def sample_attestations() -> list[AttestationOutcome]:
    return [
        AttestationOutcome(
            status=AttestationStatus.VALID, source="attestations.json#1", id="ATT-1", attested_by="Jane Roe, CISO",
            clauses={FrameworkId.NIS2: ["CIR 6.4.1"]}, statement="Every change is approved by a second engineer.",
            evidence="ISMS-CHG-004", valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        ),
        AttestationOutcome(
            status=AttestationStatus.EXPIRED, reason="expired on 2026-06-30T23:59:59Z", source="attestations.json#2",
            id="ATT-2", attested_by="John Doe, DPO", clauses={FrameworkId.ISO27001: ["A.5.1"]},
            statement="The information security policy is approved.", evidence="ISMS-POL-001",
        ),
    ]


def sample_report() -> GateReport:
    results = sample_results()
    inputs = [
        InputRef(kind="closure", path="closure.json", sha256="1" * 64, size=2_914_204),
        InputRef(kind="sbom", path="sbom.cdx.json", sha256="2" * 64, size=1_804_331),
    ]
    assessment = Assessment(
        id="6a11d4d6-1add-5bff-a914-e9fca7b09bc4", created=CREATED, tool="compliance-gate", tool_version="0.1.0",
        mode=CheckKind.STATIC,
        subject=SubjectRef(name="nixos-system-payments-24.11", store_path=STORE_PATH, nar_sha256=NAR_SHA256,
                           commit="5ef6c42d1b0e7a9f3c2b8d4e6f1a0b9c8d7e6f5a"),
        profiles=["nis2-essential"], frameworks=[FrameworkId.NIS2, FrameworkId.ISO27001],
        catalog_digest=load_catalog().digest, inputs=inputs, results=results, attestations=sample_attestations(),
    )
    by_id = {r.control_id: r for r in results}

    def reason(cid: str, message: str | None = None) -> Reason:
        r = by_id[cid]
        return Reason(control_id=cid, status=r.status, severity=r.severity, message=message or r.message)

    decision = Decision(
        passed=False, verdict="fail", policy_digest="sha256:" + "3" * 64,
        blocking=[reason("HK-01"), reason("SC-01")],
        non_blocking=[reason("SC-06"), reason("IA-02", "waived by W-7"), reason("CM-01")],
        counts=assessment.counts(),
    )
    return GateReport(assessment=assessment, decision=decision)


def sample_sbom() -> Sbom:
    components = [
        Component(ref=f"c{i}", name=f"pkg{i}", version="1.0", licenses=(("MIT",) if i % 3 else ("GPL-2.0-only",)) if i % 7 else ())
        for i in range(30)
    ]
    return Sbom(source="sbom.cdx.json", format="cyclonedx", spec_version="1.6", encoding="json", components=tuple(components))


def sample_context(**changes: Any) -> ReportContext:
    context = ReportContext(
        packet_id=PACKET_ID,
        key_fingerprint=KEY_FINGERPRINT,
        inputs=sample_report().assessment.inputs,
        verify_commands=["compliance evidence verify PACKET --key cosign.pub"],
        catalog=load_catalog(),
        sbom=sample_sbom(),
    )
    return dataclasses.replace(context, **changes)
