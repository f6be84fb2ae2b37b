"""DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse v1).

The signature covers the pre-authentication encoding ``PAE(type, body) = "DSSEv1" SP
LEN(type) SP type SP LEN(body) SP body``, never the JSON of the envelope, so verifying
cannot be confused by how the envelope is serialised. The ``keyid`` is left empty, as
cosign writes it: Go verifiers skip signatures whose non-empty keyid differs from theirs.

Envelopes are written as canonical JSON and read back only in that form (see
:mod:`compliance.signing.encoding` for why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compliance.errors import MalformedJSON, VerificationError
from compliance.signing.encoding import b64encode, strict_b64decode
from compliance.signing.keys import PublicKey, Signer
from compliance.util.canonical import canonical_json
from compliance.util.jsonparse import loads_json

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is actually signed, binding the payload type to the payload."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(payload), payload)


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope: payload type, payload and the signatures over its PAE."""
    payload_type: str
    payload: bytes
    signatures: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "payload": b64encode(self.payload),
            "payloadType": self.payload_type,
            "signatures": [{"keyid": "", "sig": b64encode(s)} for s in self.signatures],
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, doc: Any, source: str) -> Envelope:
        if not isinstance(doc, dict) or set(doc) != {"payload", "payloadType", "signatures"}:
            raise VerificationError(f"{source}: a DSSE envelope is an object with payload, payloadType and signatures")
        payload_type, signatures = doc["payloadType"], doc["signatures"]
        if not isinstance(payload_type, str) or not isinstance(doc["payload"], str):
            raise VerificationError(f"{source}: DSSE payload and payloadType must be strings")
        if not isinstance(signatures, list) or not signatures:
            raise VerificationError(f"{source}: DSSE envelope without signature")
        sigs: list[bytes] = []
        for item in signatures:
            if not isinstance(item, dict) or not isinstance(item.get("sig"), str) or not isinstance(item.get("keyid", ""), str):
                raise VerificationError(f"{source}: malformed DSSE signature entry (keyid, sig)")
            sigs.append(strict_b64decode(item["sig"], source=source, what="DSSE signature"))
        payload = strict_b64decode(doc["payload"], source=source, what="DSSE payload")
        return cls(payload_type, payload, tuple(sigs))


def parse_envelope(data: bytes, source: str) -> Envelope:
    """Read an envelope written by this tool; any other spelling of it is an error."""
    try:
        doc = loads_json(data)
    except MalformedJSON as exc:
        raise VerificationError(f"{source}: not JSON ({exc.problem})") from None
    envelope = Envelope.from_json(doc, source)
    if envelope.to_bytes() != data:
        raise VerificationError(f"{source}: the envelope is not in the canonical form this tool writes")
    return envelope


def sign_envelope(signer: Signer, payload_type: str, payload: bytes) -> Envelope:
    """Sign a payload into a DSSE envelope with one signature by ``signer``."""
    return Envelope(payload_type, payload, (signer.sign(pae(payload_type, payload)),))


def verify_envelope(envelope: Envelope, key: PublicKey, *, payload_type: str | None = None, source: str = "DSSE envelope") -> bytes:
    """The payload, if one signature verifies with ``key``; else :class:`VerificationError`."""
    if payload_type is not None and envelope.payload_type != payload_type:
        raise VerificationError(f"{source}: DSSE payloadType is {envelope.payload_type!r}, expected {payload_type!r}")
    message = pae(envelope.payload_type, envelope.payload)
    if not any(key.verify(sig, message) for sig in envelope.signatures):
        raise VerificationError(f"{source}: the DSSE signature does not verify with key {key.fingerprint}")
    return envelope.payload
