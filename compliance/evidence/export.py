"""Exports out of a packet: the exact signed bytes, never a re-rendering.

``evidence export`` hands out the OSCAL, SARIF, JUnit or JSON file the packet was signed
with, after checking it against the manifest (a damaged packet is an error, not an
export). Checking the signature is ``evidence verify``'s job: it needs the key.
"""

from __future__ import annotations

from compliance.errors import InputError, UsageError, VerificationError
from compliance.evidence.layout import EXPORTABLE, MANIFEST
from compliance.evidence.manifest import parse_manifest
from compliance.evidence.packet import Packet


def export_file(packet: Packet, fmt: str) -> bytes:
    """The exact signed bytes of one export of a packet, after checking them against the manifest."""
    if fmt not in EXPORTABLE:
        raise UsageError(f"--format {fmt}: unknown export (known: {', '.join(sorted(EXPORTABLE))})")
    path = EXPORTABLE[fmt]
    raw = packet.files.get(MANIFEST)
    if raw is None:
        raise InputError(packet.source, "no manifest.json: not an evidence packet")
    try:
        manifest = parse_manifest(raw, MANIFEST)
    except VerificationError as exc:
        raise InputError(packet.source, str(exc)) from None
    entry = manifest.file(path)
    data = packet.files.get(path)
    if entry is None or data is None:
        raise InputError(packet.source, f"holds no {path}")
    if (packet.digests[path], len(data)) != (entry.sha256, entry.size):
        raise InputError(packet.source, f"{path} does not match its manifest entry: the packet is damaged (see 'compliance evidence verify')")
    return data
