"""The in-toto predicate of a packet: the assessment summary and the manifest digest.

The statement's subject is the release (the closure's top-level store path and its NAR
sha256, which ``nix-store --dump PATH | sha256sum`` reproduces), so ``cosign
verify-blob-attestation`` can check the statement against the NAR itself.
"""

from __future__ import annotations

from pydantic import Field

from compliance.evidence.layout import PREDICATE_SCHEMA, RESULTS
from compliance.evidence.manifest import SHA256_PATTERN, Manifest, PacketIdentity
from compliance.models.common import Record, Status
from compliance.models.results import GateReport
from compliance.signing.intoto import ResourceDescriptor


class Digested(Record):
    """A file named with its SHA-256 in the in-toto predicate."""
    path: str
    sha256: str = Field(pattern=SHA256_PATTERN)


class GatePredicate(PacketIdentity):
    """The in-toto predicate of a packet: the assessment summary and the digests of the manifest and results."""
    schema_: str = Field(default=PREDICATE_SCHEMA, alias="$schema")
    manifest: Digested
    results: Digested
    counts: dict[Status, int]
    blocking: list[str]


def make_predicate(report: GateReport, manifest: Manifest, manifest_sha256: str) -> GatePredicate:
    """The predicate for a report and the manifest that lists its results."""
    results = manifest.file(RESULTS)
    assert results is not None
    return GatePredicate(
        **manifest.identity(),
        manifest=Digested(path="manifest.json", sha256=manifest_sha256),
        results=Digested(path=RESULTS, sha256=results.sha256),
        counts=dict(sorted(report.assessment.counts().by_status.items())),
        blocking=sorted({r.control_id for r in report.decision.blocking if r.control_id}),
    )


def statement_subjects(manifest: Manifest) -> list[ResourceDescriptor]:
    """The release's digests: the closure's top-level path and NAR sha256 when known,
    otherwise every input the release was judged on."""
    subject = manifest.subject
    if subject.store_path and subject.nar_sha256:
        return [ResourceDescriptor(name=subject.store_path, digest={"sha256": subject.nar_sha256})]
    return [ResourceDescriptor(name=entry.path, digest={"sha256": entry.sha256}) for entry in manifest.inputs] or [
        ResourceDescriptor(name=entry.path, digest={"sha256": entry.sha256}) for entry in manifest.files if entry.path == RESULTS
    ]
