"""Sigstore bundles v0.3 for key-based, offline signatures.

A bundle carries one signature and what a verifier needs besides the public key: the
public-key hint (cosign's base64 of sha256 over the SPKI DER) and either a message
signature (the SHA-256 digest of the signed blob and the DER ECDSA signature) or a DSSE
envelope. Packets are signed offline, so a bundle has no transparency-log entry and no
certificate: a bundle holding a key in a certificate field was the cosign advisory
GHSA-fx35-mq7g-6g98, and this model has no such field at all.

Bundles are written as canonical JSON and read back only in that form, so that a verifier
notices any change to the file, not only changes that break the signature.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from compliance.errors import VerificationError
from compliance.signing.dsse import Envelope, verify_envelope
from compliance.signing.encoding import b64encode, strict_b64decode
from compliance.signing.keys import PublicKey
from compliance.signing.signed_docs import load_document
from compliance.util.canonical import canonical_json

MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class HashOutput(_Model):
    """The digest a message signature covers: its algorithm and value."""
    algorithm: Literal["SHA2_256"]
    digest: str


class MessageSignature(_Model):
    """A signature over one message (a file), with the digest it signs."""
    message_digest: HashOutput = Field(alias="messageDigest")
    signature: str


class PublicKeyIdentifier(_Model):
    """The hint naming the public key that verifies a bundle (its fingerprint)."""
    hint: str


class VerificationMaterial(_Model):
    """What a verifier needs besides the signature: here only a public-key hint (no certificate, no log entry)."""
    public_key: PublicKeyIdentifier = Field(alias="publicKey")
    # Always present and empty: sigstore-models requires the key, protobuf readers accept it.
    tlog_entries: list[dict[str, Any]] = Field(alias="tlogEntries", max_length=0)


class DsseSignature(_Model):
    """One signature of a DSSE envelope inside a bundle."""
    keyid: str = ""
    sig: str


class DsseEnvelope(_Model):
    """The DSSE envelope a bundle carries: payload type, payload and signatures."""
    payload: str
    payload_type: str = Field(alias="payloadType")
    signatures: list[DsseSignature] = Field(min_length=1)


class Bundle(_Model):
    """A Sigstore bundle v0.3 holding either a message signature or a DSSE envelope."""
    media_type: Literal["application/vnd.dev.sigstore.bundle.v0.3+json"] = Field(alias="mediaType")
    verification_material: VerificationMaterial = Field(alias="verificationMaterial")
    message_signature: MessageSignature | None = Field(default=None, alias="messageSignature")
    dsse_envelope: DsseEnvelope | None = Field(default=None, alias="dsseEnvelope")

    @model_validator(mode="after")
    def _one_content(self) -> Bundle:
        if (self.message_signature is None) == (self.dsse_envelope is None):
            raise ValueError("a bundle holds exactly one of messageSignature and dsseEnvelope")
        return self

    def to_json(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", by_alias=True, exclude_none=True))


def _material(key: PublicKey) -> VerificationMaterial:
    return VerificationMaterial(public_key=PublicKeyIdentifier(hint=key.hint), tlog_entries=[])


def message_bundle(message: bytes, signature: bytes, key: PublicKey) -> Bundle:
    """The bundle of a blob signature, as ``cosign sign-blob --bundle`` makes it."""
    return Bundle(
        media_type=MEDIA_TYPE,
        verification_material=_material(key),
        message_signature=MessageSignature(
            message_digest=HashOutput(algorithm="SHA2_256", digest=b64encode(hashlib.sha256(message).digest())),
            signature=b64encode(signature),
        ),
    )


def dsse_bundle(envelope: Envelope, key: PublicKey) -> Bundle:
    """The bundle of a DSSE envelope, as ``cosign attest-blob --bundle`` makes it."""
    return Bundle(
        media_type=MEDIA_TYPE,
        verification_material=_material(key),
        dsse_envelope=DsseEnvelope.model_validate(envelope.to_json()),
    )


def parse_bundle(data: bytes, source: str) -> Bundle:
    """Read a bundle written by this tool; any other spelling of it is an error."""
    bundle = load_document(Bundle, data, source, "a Sigstore bundle v0.3")
    if bundle.to_json() != data:
        raise VerificationError(f"{source}: the bundle is not in the canonical form this tool writes")
    return bundle


def _check_hint(bundle: Bundle, key: PublicKey, source: str) -> None:
    hint = bundle.verification_material.public_key.hint
    if hint != key.hint:
        raise VerificationError(f"{source}: signed with another key (public-key hint {hint}, the given key's is {key.hint})")


def verify_message_bundle(bundle: Bundle, message: bytes, key: PublicKey, source: str) -> None:
    """The steps a verifier takes for a message-signature bundle, in order."""
    signed = bundle.message_signature
    if signed is None:
        raise VerificationError(f"{source}: the bundle holds a DSSE envelope, expected a message signature")
    _check_hint(bundle, key, source)
    digest = strict_b64decode(signed.message_digest.digest, source=source, what="messageDigest.digest")
    if digest != hashlib.sha256(message).digest():
        raise VerificationError(f"{source}: messageDigest is not the SHA-256 of the signed file")
    signature = strict_b64decode(signed.signature, source=source, what="messageSignature.signature")
    if not key.verify(signature, message):
        raise VerificationError(f"{source}: the signature does not verify with key {key.fingerprint}")


def bundle_envelope(bundle: Bundle, source: str) -> Envelope:
    """The DSSE envelope a bundle carries; a bundle with a message signature instead is invalid here."""
    content = bundle.dsse_envelope
    if content is None:
        raise VerificationError(f"{source}: the bundle holds a message signature, expected a DSSE envelope")
    return Envelope(
        payload_type=content.payload_type,
        payload=strict_b64decode(content.payload, source=source, what="dsseEnvelope.payload"),
        signatures=tuple(strict_b64decode(s.sig, source=source, what="dsseEnvelope signature") for s in content.signatures),
    )


def verify_dsse_bundle(bundle: Bundle, key: PublicKey, source: str, *, payload_type: str) -> bytes:
    """The payload of a DSSE bundle whose signature verifies with ``key`` over the PAE."""
    envelope = bundle_envelope(bundle, source)
    _check_hint(bundle, key, source)
    return verify_envelope(envelope, key, payload_type=payload_type, source=source)
