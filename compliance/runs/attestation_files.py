"""Signing and verifying manual attestations.

Some clauses no machine can check (a training programme, a background check, a crisis
plan). For those a named person signs a statement; the gate counts it only when it can
verify it. A signed attestation file is a JSON document holding one DSSE envelope per
attestation (payload: the attestation as canonical JSON, payload type
:data:`ATTESTATION_PAYLOAD_TYPE`), so one attestation can be checked, or rejected, on its
own. Everything that keeps an attestation from counting (no signature, a signature that
does not verify, a clause the catalog does not know, a validity period that has not
started or is over) is recorded as an outcome with its reason, never silently dropped.
A file that cannot be read at all is an input error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from compliance.catalog.loader import Catalog
from compliance.errors import InputError, MalformedJSON, VerificationError
from compliance.inputs.documents import read_listing
from compliance.models.attestation import (
    ATTESTATION_PAYLOAD_TYPE,
    Attestation,
    AttestationFile,
    AttestationOutcome,
    AttestationStatus,
)
from compliance.models.results import Assessment
from compliance.signing.dsse import Envelope, sign_envelope, verify_envelope
from compliance.signing.keys import PublicKey, Signer, load_public_key
from compliance.util.canonical import canonical_json
from compliance.util.clock import isoformat
from compliance.util.fsutil import parse_json, read_bytes
from compliance.util.jsonparse import loads_json
from compliance.util.validation import format_validation_error

SIGNED_FILE_SCHEMA = "https://compliance-gate.dev/schemas/signed-attestations/v1"


def read_attestation_file(path: str | Path, data: bytes | None = None) -> list[Attestation]:
    """The unsigned attestations an attester wrote (TOML or JSON), ids unique."""
    return read_listing(path, data, AttestationFile, "attestations", "attestation").attestations


def unknown_clause(attestation: Attestation, catalog: Catalog) -> str | None:
    """Why ``attestation`` names a clause the catalog cannot place, or None."""
    for framework, refs in attestation.clauses.items():
        clauses = catalog.frameworks.get(framework)
        if clauses is None:
            return f"the catalog has no clause list for {framework.value}"
        for ref in refs:
            if clauses.resolve(ref) is None:
                return f"{ref!r} is not a clause of {clauses.title}"
    return None


def sign_attestations(attestations: Sequence[Attestation], signer: Signer) -> bytes:
    """The signed attestation file: one DSSE envelope per attestation."""
    envelopes = [
        sign_envelope(signer, ATTESTATION_PAYLOAD_TYPE, canonical_json(a.to_jsonable())).to_json()
        for a in attestations
    ]
    document = {"$schema": SIGNED_FILE_SCHEMA, "attestations": envelopes}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def signed_entries(data: bytes, source: str) -> list[Any]:
    """The entries of a signed attestation file; a file of another shape is an input error."""
    doc = parse_json(data, source)
    if not isinstance(doc, dict) or not isinstance(doc.get("attestations"), list):
        raise InputError(source, "not a signed attestation file: expected an object with an 'attestations' list (see 'compliance attest sign')")
    if doc.get("$schema", SIGNED_FILE_SCHEMA) != SIGNED_FILE_SCHEMA:
        raise InputError(source, f"$schema is {doc['$schema']!r}, expected {SIGNED_FILE_SCHEMA}")
    return list(doc["attestations"])


def verify_entries(entries: list[Any], source: str, key: PublicKey, catalog: Catalog, now: datetime) -> list[AttestationOutcome]:
    """Judge each signed entry of an attestation file on its own (one bad entry does not hide the others)."""
    return [_verify_entry(entry, f"{source}#{index}", key, catalog, now) for index, entry in enumerate(entries, 1)]


def verify_file(path: str, data: bytes, key: PublicKey, catalog: Catalog, now: datetime) -> list[AttestationOutcome]:
    """Judge every attestation of one signed attestation file."""
    return verify_entries(signed_entries(data, path), path, key, catalog, now)


def _verify_entry(entry: Any, source: str, key: PublicKey, catalog: Catalog, now: datetime) -> AttestationOutcome:
    if isinstance(entry, dict) and "payload" not in entry and "clauses" in entry:
        return _outcome(AttestationStatus.UNSIGNED, "a bare attestation, not a signed envelope", source, _peek_document(entry))
    if isinstance(entry, dict) and "payload" in entry and not entry.get("signatures"):
        payload = _payload_bytes(entry)
        return _outcome(AttestationStatus.UNSIGNED, "the envelope carries no signature", source, _peek(payload), payload)
    try:
        envelope = Envelope.from_json(entry, source)
    except VerificationError as exc:
        return _outcome(AttestationStatus.MALFORMED, str(exc).removeprefix(f"{source}: "), source, {})
    try:
        verify_envelope(envelope, key)
    except VerificationError:
        reason = f"the signature does not verify with key {key.fingerprint}: tampered with, or signed with another key"
        return _outcome(AttestationStatus.BAD_SIGNATURE, reason, source, _peek(envelope.payload), envelope.payload)
    if envelope.payload_type != ATTESTATION_PAYLOAD_TYPE:
        reason = f"payloadType is {envelope.payload_type!r}, expected {ATTESTATION_PAYLOAD_TYPE}"
        return _outcome(AttestationStatus.MALFORMED, reason, source, {}, envelope.payload)
    try:
        attestation = Attestation.model_validate_json(envelope.payload)
    except ValidationError as exc:
        return _outcome(AttestationStatus.MALFORMED, f"not an attestation: {format_validation_error(exc)}", source, {}, envelope.payload)
    fields = _fields(attestation)
    fields["key_fingerprint"] = key.fingerprint
    problem = unknown_clause(attestation, catalog)
    if problem:
        return _outcome(AttestationStatus.UNKNOWN_CLAUSE, problem, source, fields, envelope.payload)
    if now < attestation.valid_from:
        reason = f"not valid before {isoformat(attestation.valid_from)}"
        return _outcome(AttestationStatus.NOT_YET_VALID, reason, source, fields, envelope.payload)
    if now >= attestation.valid_until:
        reason = f"expired on {isoformat(attestation.valid_until)}"
        return _outcome(AttestationStatus.EXPIRED, reason, source, fields, envelope.payload)
    return _outcome(AttestationStatus.VALID, None, source, fields, envelope.payload)


def _outcome(status: AttestationStatus, reason: str | None, source: str, fields: dict[str, Any], payload: bytes | None = None) -> AttestationOutcome:
    digest = hashlib.sha256(payload).hexdigest() if payload is not None else None
    return AttestationOutcome(status=status, reason=reason, source=source, payload_sha256=digest, **fields)


def _fields(attestation: Attestation) -> dict[str, Any]:
    return attestation.model_dump(exclude={"schema_"})


def _payload_bytes(entry: dict[str, Any]) -> bytes | None:
    try:
        return base64.b64decode(entry["payload"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        return None


def _peek(payload: bytes | None) -> dict[str, Any]:
    """Identifying fields of an attestation that did not verify: shown, never trusted."""
    if payload is None:
        return {}
    try:
        return _peek_document(loads_json(payload))
    except MalformedJSON:
        return {}


def _peek_document(doc: Any) -> dict[str, Any]:
    try:
        return _fields(Attestation.model_validate(doc))
    except ValidationError:
        return {"id": doc["id"]} if isinstance(doc, dict) and isinstance(doc.get("id"), str) else {}


def record(assessment: Assessment, outcomes: list[AttestationOutcome]) -> Assessment:
    """``assessment`` with every attestation outcome, and a note for each that does not count."""
    notes = list(assessment.notes)
    for outcome in outcomes:
        if not outcome.counts:
            notes.append(f"attestation {describe(outcome)} does not count: {outcome.reason}")
    return assessment.model_copy(update={"attestations": outcomes, "notes": notes})


def describe(outcome: AttestationOutcome) -> str:
    """``ATT-3 (nis2 Art.21(2)(g)) from att.json#1``: how messages name an attestation."""
    clauses = "; ".join(f"{fw.value} {', '.join(refs)}" for fw, refs in outcome.clauses.items())
    name = outcome.id or "without id"
    return f"{name} ({clauses}) from {outcome.source}" if clauses else f"{name} from {outcome.source}"


def verify_files(paths: Sequence[str], key_path: str, catalog: Catalog, now: datetime) -> list[AttestationOutcome]:
    """Read and verify signed attestation files against the public key at ``key_path``."""
    key = load_public_key(key_path)
    return [o for path in paths for o in verify_file(path, read_bytes(path, what="attestation file"), key, catalog, now)]


def sign_attestation_file(source: str, key_path: str, catalog_dir: Path | None) -> tuple[bytes, int, str]:
    """``compliance attest sign``: the signed file's bytes, how many attestations, the key's
    fingerprint. Every clause an attestation names must be in the catalog's clause lists."""
    from compliance.catalog.loader import load_catalog
    from compliance.signing.keys import NativeSigner

    items = read_attestation_file(source)
    cat = load_catalog(catalog_dir)
    for item in items:
        problem = unknown_clause(item, cat)
        if problem:
            raise InputError(source, f"attestation {item.id}: {problem}")
    signer = NativeSigner.from_file(key_path)
    return sign_attestations(items, signer), len(items), signer.public_key.fingerprint


def verify_attestation_files(paths: Sequence[str], key_path: str, catalog_dir: Path | None) -> list[AttestationOutcome]:
    """``compliance attest verify``: every attestation judged at the assessment time."""
    from compliance.catalog.loader import load_catalog
    from compliance.util import clock

    return verify_files(paths, key_path, load_catalog(catalog_dir), clock.now())


def valid_until_text(outcome: AttestationOutcome) -> str:
    """The end of an attestation's validity, as the reports print times ("?" when unknown)."""
    return isoformat(outcome.valid_until) if outcome.valid_until else "?"
