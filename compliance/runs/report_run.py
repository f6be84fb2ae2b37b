"""A packet's gate report and report context, recovered from its files.

``compliance evidence report`` renders a packet again, so the context must be the one the
packet builder gave the renderer: the packet id and key fingerprint from the manifest, the
inputs it lists, the SBOM it carries, the verification commands. With the same catalog and
``SOURCE_DATE_EPOCH`` the PDF is then the one inside the packet, byte for byte.

Every file is taken through the manifest: results.json and the SBOM must match their
digests there, and the manifest and the results must name the same assessment. A damaged
packet is an error, never a report. Checking the signature is ``evidence verify``'s job
(it needs the key); the report says so on its cover.
"""

from __future__ import annotations

import hashlib

from compliance.catalog.loader import Catalog
from compliance.errors import InputError
from compliance.evidence.commands import verify_commands
from compliance.evidence.export import packet_manifest, packet_results
from compliance.evidence.layout import MANIFEST
from compliance.evidence.manifest import InputEntry
from compliance.evidence.packet import Packet
from compliance.inputs.sbom import parse_sbom
from compliance.models.results import GateReport
from compliance.models.subject import InputRef, Sbom
from compliance.report.context import ReportContext

SBOM_KINDS = ("sbom", "sbom-generated")


def _sbom(packet: Packet, inputs: list[InputEntry]) -> Sbom | None:
    """The packet's copy of the SBOM input, or None when it keeps only the SBOM's digest."""
    for entry in inputs:
        if entry.kind not in SBOM_KINDS or entry.file is None:
            continue
        data = packet.files.get(entry.file)
        if data is None or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise InputError(packet.source, f"{entry.file} does not match the SBOM digest in {MANIFEST}: the packet is damaged")
        return parse_sbom(data, entry.path)
    return None


def report_from_packet(packet: Packet, catalog: Catalog | None) -> tuple[GateReport, ReportContext]:
    """The gate report and report context of a packet, every file taken through the manifest (a damaged packet is an error)."""
    if MANIFEST not in packet.files:
        raise InputError(packet.source, f"no {MANIFEST}: not an evidence packet")
    manifest = packet_manifest(packet)
    report = packet_results(packet, manifest)
    context = ReportContext(
        packet_id=manifest.packet_id,
        key_fingerprint=manifest.key_fingerprint,
        inputs=[InputRef(kind=i.kind, path=i.path, sha256=i.sha256, size=i.size) for i in manifest.inputs],
        verify_commands=verify_commands(report.assessment.subject.store_path),
        catalog=catalog,
        sbom=_sbom(packet, manifest.inputs),
    )
    return report, context
