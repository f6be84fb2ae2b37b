"""``compliance keys``: generate a cosign-compatible key pair; sign and verify any file.

A signed file gets two companions, as a packet's manifest does: ``FILE.sig`` (base64 DER
ECDSA P-256 over SHA-256, what ``cosign sign-blob --output-signature`` writes and
``openssl dgst -sha256 -verify`` checks) and ``FILE.sigstore.json`` (a Sigstore bundle
v0.3). Releases of the tool itself are signed this way (``scripts/release``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compliance.errors import VerificationError
from compliance.signing.blob import (
    BUNDLE_SUFFIX,
    SIGNATURE_SUFFIX,
    sign_blob,
    verify_bundle,
    verify_detached,
)
from compliance.signing.keys import PASSWORD_ENV, PublicKey, load_public_key, write_key_pair
from compliance.signing.signers import open_signer
from compliance.util.fsutil import atomic_write_all, read_bytes

__all__ = ["PASSWORD_ENV", "BlobCheck", "generate_keys", "sign_files", "verify_files"]


def generate_keys(prefix: str, password: bytes, *, force: bool) -> tuple[Path, Path, PublicKey]:
    """Write PREFIX.key (encrypted, mode 0600) and PREFIX.pub; returns both paths and the key."""
    return write_key_pair(prefix, password, force=force)


def sign_files(files: list[str], key_path: str, signer: str) -> str:
    """Sign every file (all companions written or none); returns the key's fingerprint."""
    blobs = [(name, read_bytes(name, what="file to sign")) for name in files]
    signing = open_signer(signer, key_path)
    written: list[tuple[str | Path, bytes]] = []
    for name, data in blobs:
        signed = sign_blob(signing, data)
        written += [(name + SIGNATURE_SUFFIX, signed.signature), (name + BUNDLE_SUFFIX, signed.bundle)]
    atomic_write_all(written)
    return signing.public_key.fingerprint


@dataclass(frozen=True)
class BlobCheck:
    """One file's verification: the problems found (none when it verifies)."""

    name: str
    problems: list[str]


def verify_files(files: list[str], key_path: str) -> tuple[PublicKey, list[BlobCheck]]:
    """Check both companions of every file against the key."""
    key = load_public_key(key_path)
    blobs = [(name, read_bytes(name, what="signed file")) for name in files]
    checks: list[BlobCheck] = []
    for name, data in blobs:
        problems: list[str] = []
        for suffix, check in ((SIGNATURE_SUFFIX, verify_detached), (BUNDLE_SUFFIX, verify_bundle)):
            companion = Path(name + suffix)
            if not companion.is_file():
                problems.append(f"{companion}: missing")
                continue
            try:
                check(data, read_bytes(companion, what="signature"), key, str(companion))
            except VerificationError as exc:
                problems.append(str(exc))
        checks.append(BlobCheck(name, problems))
    return key, checks
