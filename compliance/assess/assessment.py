"""Assembling an :class:`Assessment` from what the engine produced."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from compliance import TOOL_NAME, __version__
from compliance.catalog.selection import Selection
from compliance.checks.predicate_subject import Subject
from compliance.errors import HashFormatError, InputError
from compliance.models.control import CheckKind
from compliance.models.results import Assessment, ControlResult, SubjectRef
from compliance.models.subject import InputRef
from compliance.nix.hashes import sha256_hex
from compliance.util.canonical import canonical_json
from compliance.util.clock import isoformat

# Assessment ids are UUIDv5 in this namespace over the canonical identity of the run, so
# that the same inputs at the same time give the same id (and the same packet bytes).
ID_NAMESPACE = uuid.UUID("5d1f6c1e-9a63-4c39-8a6f-0b2f3c1d7e42")


def input_ref(kind: str, path: str, data: bytes) -> InputRef:
    """A reference to an input: its kind, path, SHA-256 and size."""
    return InputRef(kind=kind, path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def closure_subject(subject: Subject) -> SubjectRef:
    """What the assessment is about. The top-level path's NAR hash is the digest the signed
    statement binds to: one that does not read as a sha256 is an input error, never a
    subject silently left without its digest."""
    closure = subject.closure
    if closure is None:
        return SubjectRef(kind="nix-closure", commit=subject.commit)
    root = closure.roots[0]
    info = closure.paths[root]
    nar = None
    if info.nar_hash:
        try:
            nar = sha256_hex(info.nar_hash)
        except HashFormatError as exc:
            raise InputError(closure.source, f"{root}: narHash {info.nar_hash!r}: {exc}") from None
    name = info.name + (f"-{info.version}" if info.version else "")
    return SubjectRef(kind="nix-closure", name=name, store_path=root, nar_sha256=nar, commit=subject.commit)


def build(
    *,
    selection: Selection,
    results: list[ControlResult],
    subject: SubjectRef,
    inputs: list[InputRef],
    catalog_digest: str,
    mode: CheckKind,
    created: datetime,
    notes: list[str],
) -> Assessment:
    """The assessment of one run: results in catalog order with the selection, subject, time and catalog digest."""
    identity = {
        "created": isoformat(created),
        "subject": subject.to_jsonable(),
        "profiles": selection.profiles,
        "catalog": catalog_digest,
        "inputs": sorted(i.sha256 for i in inputs),
        "mode": mode.value,
    }
    assessment_id = str(uuid.uuid5(ID_NAMESPACE, canonical_json(identity).decode()))
    return Assessment(
        id=assessment_id,
        created=created,
        tool=TOOL_NAME,
        tool_version=__version__,
        mode=mode,
        subject=subject,
        profiles=selection.profiles,
        frameworks=selection.frameworks,
        catalog_digest=catalog_digest,
        inputs=inputs,
        notes=notes,
        results=results,
    )
