"""A probe report written as nixfleet-compliance's ``evidence.json``, signed as its
collector signs it, so that nixfleet's agent and control plane read it unchanged.

The document is the shape the collector writes and nixfleet's agent parses: ``host``,
``timestamp`` (UTC, to the second), ``controls[{control, status, framework_articles,
checks}]`` and ``overall``. ``evidence.json`` holds its JCS (RFC 8785) bytes;
``evidence.json.sig`` the base64 of the ed25519 signature of those bytes by the host's
OpenSSH key, on one line; ``evidence.host.pub`` the public key (for people: a verifier
takes the key it pins, never this file).

nixfleet knows three statuses. pass is ``compliant``, fail ``non-compliant``; a control
that does not apply to the host is left out (nixfleet has no word for it, and
``compliant`` would claim what was not tested); anything else (error, manual, waived)
is ``error``, which nixfleet counts as a failure: nothing becomes a pass on the way.

The document also carries, under ``compliance_gate``, what this tool binds a report to
(nonce, report id, running closure, boot and machine id): covered by the signature,
ignored by nixfleet's readers, which skip fields they do not know.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from compliance.models.common import Status
from compliance.models.frameworks import FrameworkId
from compliance.models.probe import ProbeReport
from compliance.models.results import ControlResult
from compliance.signing.ssh_host_signer import SshHostSigner
from compliance.util.canonical import canonical_json

EVIDENCE_FILE = "evidence.json"
SIGNATURE_FILE = "evidence.json.sig"
PUBLIC_KEY_FILE = "evidence.host.pub"
# nixfleet's wire names of the frameworks (its controls use "anssi-bp028").
FRAMEWORK_KEYS = {FrameworkId.NIS2: "nis2", FrameworkId.DORA: "dora", FrameworkId.ISO27001: "iso27001",
                  FrameworkId.ANSSI: "anssi-bp028"}
NIXFLEET_STATUS = {Status.PASS: "compliant", Status.FAIL: "non-compliant"}


def _control(result: ControlResult) -> dict[str, Any] | None:
    if result.status is Status.NOT_APPLICABLE:
        return None
    status = NIXFLEET_STATUS.get(result.status, "error")
    checks: dict[str, Any] = {
        "compliant": status == "compliant",
        "status": result.status.value,
        "severity": result.severity.value,
        "message": result.message,
        "checks": [{"function": c.function, "status": c.status.value, "message": c.message, "observed": c.observed}
                   for c in result.checks],
    }
    if status == "error":
        checks["error"] = result.message if result.status is Status.ERROR else f"{result.status.value}: {result.message}"
    return {
        "control": result.control_id,
        "status": status,
        "framework_articles": {FRAMEWORK_KEYS.get(fw, str(fw)): list(clauses) for fw, clauses in sorted(result.clauses.items())},
        "checks": checks,
    }


def evidence_document(report: ProbeReport) -> dict[str, Any]:
    """The evidence.json document of ``report`` (before canonicalisation)."""
    controls = [c for c in (_control(r) for r in report.assessment.results) if c is not None]
    compliant = sum(1 for c in controls if c["status"] == "compliant")
    binding = {
        "nonce": report.nonce, "report_id": report.report_id, "transport": report.host.transport,
        "running_closure": report.host.running_closure, "expected_closure": report.expected_closure,
        "boot_id": report.host.boot_id, "machine_id": report.host.machine_id,
        "not_applicable": sorted(r.control_id for r in report.assessment.results if r.status is Status.NOT_APPLICABLE),
    }
    return {
        "host": report.host.name or report.host.address,
        "timestamp": report.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "controls": controls,
        "overall": f"{compliant}/{len(controls)} controls compliant",
        "compliance_gate": {k: v for k, v in binding.items() if v is not None},
    }


@dataclass(frozen=True)
class NixfleetEvidence:
    """The three files, ready to write side by side."""

    evidence: bytes
    signature: bytes
    public_key: bytes

    def files(self) -> dict[str, bytes]:
        return {EVIDENCE_FILE: self.evidence, SIGNATURE_FILE: self.signature, PUBLIC_KEY_FILE: self.public_key}


def sign_evidence(report: ProbeReport, signer: SshHostSigner) -> NixfleetEvidence:
    """evidence.json (its canonical bytes), the base64 ed25519 signature of exactly those
    bytes, and the host's public key line."""
    message = canonical_json(evidence_document(report))
    signature = base64.b64encode(signer.sign(message)) + b"\n"
    return NixfleetEvidence(message + b"\n", signature, (signer.public_line + "\n").encode())
