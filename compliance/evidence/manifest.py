"""manifest.json: what the packet is about and every file it holds, by digest.

The manifest is the one signed document of the packet (the statement signs its digest):
a verifier trusts a file only through its entry here. It is canonical JSON (RFC 8785), so
anyone can re-derive the signed bytes.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from compliance.errors import VerificationError
from compliance.evidence.layout import MANIFEST_SCHEMA, SAFE_PATH_PATTERN
from compliance.models.common import Record
from compliance.models.results import SubjectRef
from compliance.signing.signed_docs import load_document
from compliance.util.canonical import canonical_json

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class FileEntry(Record):
    """One file of a packet: its path, SHA-256 and size."""
    path: str = Field(pattern=SAFE_PATH_PATTERN, max_length=255)
    sha256: str = Field(pattern=SHA256_PATTERN)
    size: int = Field(ge=0)


class InputEntry(Record):
    """An input of the assessment: kind and path as given, digest, and where the packet keeps
    it (``file`` is absent when only the digest is recorded, for inputs above the size bound)."""

    kind: str
    path: str
    sha256: str = Field(pattern=SHA256_PATTERN)
    size: int = Field(ge=0)
    file: str | None = Field(default=None, pattern=SAFE_PATH_PATTERN)


class PacketIdentity(Record):
    """What the manifest and the statement's predicate both say about the packet; the
    verifier checks that they say the same."""

    packet_id: str
    created: datetime
    tool: str
    tool_version: str
    assessment_id: str
    subject: SubjectRef
    profiles: list[str]
    policy_digest: str
    catalog_digest: str
    verdict: str
    passed: bool

    def identity(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in PacketIdentity.model_fields}


class Manifest(PacketIdentity):
    """The packet's signed table of contents: identity, subject, profiles, digests, and every other file."""
    schema_: str = Field(default=MANIFEST_SCHEMA, alias="$schema")
    key_fingerprint: str
    predicate_type: str
    inputs: list[InputEntry]
    files: list[FileEntry]

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_jsonable())

    def file(self, path: str) -> FileEntry | None:
        return next((entry for entry in self.files if entry.path == path), None)


def parse_manifest(data: bytes, source: str) -> Manifest:
    """The manifest, if ``data`` is one in canonical form; else :class:`VerificationError`."""
    manifest = load_document(Manifest, data, source, "a packet manifest")
    if manifest.schema_ != MANIFEST_SCHEMA:
        raise VerificationError(f"{source}: unknown manifest schema {manifest.schema_!r}")
    if manifest.to_bytes() != data:
        raise VerificationError(f"{source}: not in canonical JSON form (RFC 8785)")
    paths = [entry.path for entry in manifest.files]
    if len(set(paths)) != len(paths):
        raise VerificationError(f"{source}: a file is listed twice")
    return manifest
