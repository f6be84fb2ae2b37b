"""Detached signatures: base64 of the DER ECDSA signature, the form ``cosign sign-blob
--output-signature`` writes and ``cosign verify-blob --signature`` reads.

Written without a trailing newline (as cosign writes it to a file); ``base64 -d`` turns it
into the DER that ``openssl dgst -sha256 -verify`` takes.
"""

from __future__ import annotations

from compliance.signing.encoding import b64encode, strict_b64decode


def encode_signature(signature: bytes) -> bytes:
    """A DER signature as cosign writes it with --output-signature: base64, no newline."""
    return b64encode(signature).encode("ascii")


def decode_signature(data: bytes, source: str) -> bytes:
    """The DER bytes of a detached signature file, strictly base64 (anything else is invalid evidence)."""
    return strict_b64decode(data, source=source, what="the detached signature")
