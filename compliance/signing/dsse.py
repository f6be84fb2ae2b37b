"""DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse v1).

The signature covers the pre-authentication encoding ``PAE(type, body) = "DSSEv1" SP
LEN(type) SP type SP LEN(body) SP body``, never the JSON of the envelope, so verifying
cannot be confused by how the envelope is serialised. The ``keyid`` is left empty, as
cosign writes it: Go verifiers skip signatures whose non-empty keyid differs from theirs.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from ..errors import VerificationError
from .keys import PublicKey, Signer

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(payload), payload)


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "payload": base64.b64encode(self.payload).decode(),
            "payloadType": self.payload_type,
            "signatures": [{"keyid": "", "sig": base64.b64encode(s).decode()} for s in self.signatures],
        }

    @classmethod
    def from_json(cls, doc: Any, source: str) -> Envelope:
        if not isinstance(doc, dict):
            raise VerificationError(f"{source}: a DSSE envelope must be a JSON object")
        try:
            payload = base64.b64decode(doc["payload"], validate=True)
            payload_type = doc["payloadType"]
            sigs = tuple(base64.b64decode(s["sig"], validate=True) for s in doc["signatures"])
        except (KeyError, TypeError, binascii.Error, ValueError):
            raise VerificationError(f"{source}: malformed DSSE envelope (payload, payloadType, signatures[].sig)") from None
        if not isinstance(payload_type, str) or not sigs:
            raise VerificationError(f"{source}: DSSE envelope without payloadType or signature")
        return cls(payload_type, payload, sigs)


def sign_envelope(signer: Signer, payload_type: str, payload: bytes) -> Envelope:
    return Envelope(payload_type, payload, (signer.sign(pae(payload_type, payload)),))


def verify_envelope(envelope: Envelope, key: PublicKey, *, payload_type: str | None = None) -> bytes:
    """The payload, if one signature verifies with ``key``; else :class:`VerificationError`."""
    if payload_type is not None and envelope.payload_type != payload_type:
        raise VerificationError(f"DSSE payloadType is {envelope.payload_type!r}, expected {payload_type!r}")
    message = pae(envelope.payload_type, envelope.payload)
    if not any(key.verify(sig, message) for sig in envelope.signatures):
        raise VerificationError(f"DSSE signature does not verify with key {key.fingerprint}")
    return envelope.payload
