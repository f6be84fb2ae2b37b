"""Reader of this tool's probe reports (``compliance probe``): a DSSE envelope, verified
with the host's ECDSA P-256 key by :func:`compliance.evidence.probe_report.verify_report_envelope`,
which also checks the payload type, that the payload is canonical and a well-formed report,
and that it names the key that verified it."""

from __future__ import annotations

from typing import Any

from compliance.errors import MalformedJSON, VerificationError
from compliance.evidence.probe_report import verify_report_envelope
from compliance.models.probe import PROBE_REPORT_PAYLOAD_TYPE
from compliance.promote.host_evidence import Binding, ControlOutcome, Evidence, ReportKind
from compliance.promote.hostkeys import HostKeys
from compliance.promote.readers.reader_api import Candidate, Claim, claimed_time, each_control_once
from compliance.signing.dsse import Envelope
from compliance.util.jsonparse import loads_json

ALWAYS_BOUND = frozenset({Binding.HOST, Binding.TIME, Binding.NONCE, Binding.CLOSURE})


class ProbeReportReader:
    kind = ReportKind.PROBE_REPORT

    def claim(self, doc: Any) -> Claim | None:
        if not isinstance(doc, dict) or doc.get("payloadType") != PROBE_REPORT_PAYLOAD_TYPE:
            return None
        try:
            envelope = Envelope.from_json(doc, "report")
            body = loads_json(envelope.payload)
        except (VerificationError, MalformedJSON):
            return None
        host = body.get("host") if isinstance(body, dict) else None
        name = host.get("name") if isinstance(host, dict) else None
        if not isinstance(name, str) or not name:
            return None
        signer = body.get("signer")
        return Claim(name, signer if isinstance(signer, str) else None, parsed=(envelope, body), created=claimed_time(body.get("created")))

    def verify(self, candidate: Candidate, doc: Any, claim: Claim, keys: HostKeys) -> Evidence:
        if keys.probe_key is None:
            raise VerificationError("the wave file gives this host no public_key: its probe reports cannot be verified")
        envelope, body = claim.parsed
        report = verify_report_envelope(envelope, keys.probe_key, candidate.file, body)
        host = report.host
        binds = set(ALWAYS_BOUND)
        if host.machine_id:
            binds.add(Binding.MACHINE_ID)
        if host.boot_id:
            binds.add(Binding.BOOT_ID)
        controls = each_control_once(
            ControlOutcome(r.control_id, r.status, r.message, severity=r.severity, title=r.title)
            for r in report.assessment.results
        )
        return Evidence(
            kind=self.kind, host=host.name or "", created=report.created, report_id=report.report_id,
            signer=report.signer, binds=frozenset(binds), controls=controls, nonce=report.nonce,
            machine_id=host.machine_id, boot_id=host.boot_id, running_closure=host.running_closure,
            transport=host.transport,
        )
