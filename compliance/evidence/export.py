"""Exports out of a packet: the exact signed bytes, never a re-rendering.

``evidence export`` hands out the OSCAL, SARIF, JUnit or JSON file the packet was signed
with, after checking it against the manifest (a damaged packet is an error, not an
export). Checking the signature is ``evidence verify``'s job: it needs the key.
"""

from __future__ import annotations

from pydantic import ValidationError

from compliance.errors import InputError, UsageError, VerificationError
from compliance.evidence.layout import EXPORTABLE, MANIFEST, RESULTS
from compliance.evidence.manifest import Manifest, parse_manifest
from compliance.evidence.packet import Packet
from compliance.models.results import GateReport
from compliance.util.validation import format_validation_error


def packet_manifest(packet: Packet) -> Manifest:
    """The packet's manifest; an absent or malformed one is an input error (exit 2)."""
    raw = packet.files.get(MANIFEST)
    if raw is None:
        raise InputError(packet.source, f"no {MANIFEST}: not an evidence packet")
    try:
        return parse_manifest(raw, MANIFEST)
    except VerificationError as exc:
        raise InputError(packet.source, str(exc)) from None


def packet_results(packet: Packet, manifest: Manifest) -> GateReport:
    """results.json, checked against its manifest entry and naming the manifest's assessment."""
    data = export_file(packet, "json")
    try:
        report = GateReport.model_validate_json(data)
    except ValidationError as exc:
        raise InputError(packet.source, f"{RESULTS}: not the results of an assessment: {format_validation_error(exc)}") from None
    if report.assessment.id != manifest.assessment_id:
        raise InputError(
            packet.source,
            f"{RESULTS} is assessment {report.assessment.id} but {MANIFEST} names {manifest.assessment_id}: the packet is damaged",
        )
    return report


def export_file(packet: Packet, fmt: str) -> bytes:
    """The exact signed bytes of one export of a packet, after checking them against the manifest."""
    if fmt not in EXPORTABLE:
        raise UsageError(f"--format {fmt}: unknown export (known: {', '.join(sorted(EXPORTABLE))})")
    path = EXPORTABLE[fmt]
    manifest = packet_manifest(packet)
    entry = manifest.file(path)
    data = packet.files.get(path)
    if entry is None or data is None:
        raise InputError(packet.source, f"holds no {path}")
    if (packet.digests[path], len(data)) != (entry.sha256, entry.size):
        raise InputError(packet.source, f"{path} does not match its manifest entry: the packet is damaged (see 'compliance evidence verify')")
    return data
