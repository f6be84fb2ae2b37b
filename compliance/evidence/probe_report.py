"""Signing a probe report, and verifying one: the two ends of the wave gate's trust.

A report travels as a DSSE envelope whose payload is the report's canonical JSON. To
accept it, a verifier needs only the host's public key: :func:`verify_report` checks the
payload type, the signature, that the payload is canonical (so no two byte strings carry
the same report) and that it is a well-formed report. Whether the report is the *right*
one (this wave's nonce, this host, this closure, fresh) is the wave gate's question
(:mod:`compliance.promote.report_verify`), asked with its own expectations.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from compliance.errors import MalformedJSON, VerificationError
from compliance.models.probe import PROBE_REPORT_PAYLOAD_TYPE, ProbeReport
from compliance.signing.dsse import Envelope, sign_envelope, verify_envelope
from compliance.signing.keys import PublicKey, Signer
from compliance.util.canonical import canonical_json, is_canonical
from compliance.util.jsonparse import loads_json
from compliance.util.validation import format_validation_error


def sign_report(report: ProbeReport, signer: Signer) -> bytes:
    """The envelope's bytes (canonical JSON, newline-terminated), ready to write."""
    payload = canonical_json(report.to_jsonable())
    envelope = sign_envelope(signer, PROBE_REPORT_PAYLOAD_TYPE, payload)
    return canonical_json(envelope.to_json()) + b"\n"


def verify_report(data: bytes, key: PublicKey, source: str) -> ProbeReport:
    """The report inside a signed envelope, or :class:`VerificationError` naming the problem."""
    try:
        doc = loads_json(data)
    except MalformedJSON:
        raise VerificationError(f"{source}: not JSON (expected a DSSE envelope)") from None
    return verify_report_envelope(Envelope.from_json(doc, source), key, source)


def verify_report_envelope(envelope: Envelope, key: PublicKey, source: str, body: Any = None) -> ProbeReport:
    """:func:`verify_report` on an envelope already read. ``body`` is its payload already
    parsed, if the caller had to look inside before knowing the key (the wave gate does,
    to know whose report it is); it must still be the canonical form of the signed bytes,
    so a body that is not theirs cannot pass."""
    try:
        payload = verify_envelope(envelope, key, payload_type=PROBE_REPORT_PAYLOAD_TYPE)
    except VerificationError as exc:
        raise VerificationError(f"{source}: {exc}") from None
    if body is None:
        try:
            body = loads_json(payload)
        except MalformedJSON:
            raise VerificationError(f"{source}: the signed payload is not JSON") from None
    if not is_canonical(payload, body):
        raise VerificationError(f"{source}: the signed payload is not canonical JSON")
    try:
        report = ProbeReport.model_validate(body)
    except ValidationError as exc:
        raise VerificationError(f"{source}: not a probe report: {format_validation_error(exc)}") from None
    if report.signer != key.fingerprint:
        raise VerificationError(f"{source}: the report names signer {report.signer}, but verifies with {key.fingerprint}")
    if report.created.utcoffset() is None:  # a time without zone cannot be held to a wave's clock
        raise VerificationError(f"{source}: created {report.created.isoformat()} has no time zone")
    return report
