"""Signatures over any file, in the two forms the packets' manifest is signed in.

A release artefact (a wheel, an sdist, an SBOM, a sums file) gets ``FILE.sig``, base64 of
the DER ECDSA P-256 / SHA-256 signature (``openssl dgst -sha256 -verify`` and ``cosign
verify-blob --signature`` read it), and ``FILE.sigstore.json``, the same signature as a
Sigstore bundle v0.3 (``cosign verify-blob --bundle``, sigstore-js). Both are made by the
same functions that sign a packet's manifest, so a release verifies exactly as a packet does.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.errors import VerificationError
from compliance.signing.bundle import message_bundle, parse_bundle, verify_message_bundle
from compliance.signing.detached import decode_signature, encode_signature
from compliance.signing.keys import PublicKey, Signer

SIGNATURE_SUFFIX = ".sig"
BUNDLE_SUFFIX = ".sigstore.json"


@dataclass(frozen=True)
class BlobSignature:
    """The two files that sign one blob: their bytes, as written beside it."""

    signature: bytes
    bundle: bytes


def sign_blob(signer: Signer, data: bytes) -> BlobSignature:
    """Sign ``data`` once and spell the signature both ways (the same DER in each)."""
    signature = signer.sign(data)
    return BlobSignature(
        signature=encode_signature(signature),
        bundle=message_bundle(data, signature, signer.public_key).to_json(),
    )


def verify_detached(data: bytes, signature_file: bytes, key: PublicKey, source: str) -> None:
    """Raise :class:`VerificationError` unless ``signature_file`` (a ``.sig``) verifies over
    ``data`` with ``key``."""
    signature = decode_signature(signature_file, source)
    if not key.verify(signature, data):
        raise VerificationError(f"{source}: the signature does not verify with key {key.fingerprint}")


def verify_bundle(data: bytes, bundle_file: bytes, key: PublicKey, source: str) -> None:
    """Raise :class:`VerificationError` unless the bundle signs ``data`` with ``key``."""
    verify_message_bundle(parse_bundle(bundle_file, source), data, key, source)
