"""The two signers behind :class:`~compliance.signing.keys.Signer`.

* ``native``: the cryptography library, in-process, deterministic (RFC 6979), so that the
  same packet inputs and key give byte-identical signatures.
* ``cosign``: a ``cosign`` binary found on PATH signs each blob (``cosign sign-blob``,
  offline: no transparency log, no signing config). Go's ECDSA is randomised, so packets
  signed this way verify the same but are not byte-reproducible.

Both produce DER ECDSA P-256 / SHA-256 signatures over the raw bytes, which is what
``cosign verify-blob``, ``openssl dgst -sha256 -verify`` and Sigstore verifiers check.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from compliance.errors import SigningError
from compliance.signing.detached import decode_signature
from compliance.signing.keys import (
    NativeSigner,
    PublicKey,
    Signer,
    parse_public_key,
    password_from_env,
)
from compliance.util.fsutil import read_bytes

SIGNERS = ("native", "cosign")
COSIGN_TIMEOUT = 120.0


def open_signer(kind: str, key_path: str | Path) -> Signer:
    """The signer ``kind`` ("native" or "cosign") for the private key at ``key_path``."""
    if kind == "native":
        return NativeSigner.from_file(key_path)
    if kind == "cosign":
        return CosignSigner(key_path)
    raise SigningError(f"unknown signer {kind!r} (known: {', '.join(SIGNERS)})")


def _first_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()]
    return (errors or lines or ["no message"])[-1][:300]


class CosignSigner:
    """Signs through ``cosign sign-blob --key``; the password comes from COSIGN_PASSWORD."""

    def __init__(self, key_path: str | Path, executable: str | None = None) -> None:
        found = executable or shutil.which("cosign")
        if found is None:
            raise SigningError("--signer cosign: no cosign binary on PATH (use --signer native)")
        self._cosign = found
        self._key_path = str(key_path)
        read_bytes(key_path, what="private key")  # a missing key is an input error, not a cosign failure
        password_from_env()  # cosign would prompt for it on a terminal; here it must be set
        self._major = self._major_version()
        self._public_key = self._load_public_key()

    @property
    def public_key(self) -> PublicKey:
        return self._public_key

    def sign(self, data: bytes) -> bytes:
        with tempfile.TemporaryDirectory(prefix="compliance-cosign-") as tmp:
            blob = Path(tmp) / "blob"
            sig_path = Path(tmp) / "blob.sig"
            blob.write_bytes(data)
            args = ["sign-blob", "--key", self._key_path, "--tlog-upload=false", "--yes"]
            if self._major >= 3:
                args += ["--use-signing-config=false", "--new-bundle-format=false"]
            args += ["--output-signature", str(sig_path), str(blob)]
            self._run(args)
            if not sig_path.is_file():
                raise SigningError("cosign sign-blob wrote no signature")
            signature = decode_signature(sig_path.read_bytes().strip(), "cosign sign-blob output")
        if not self._public_key.verify(signature, data):
            raise SigningError(f"cosign produced a signature that does not verify with {self._public_key.fingerprint}")
        return signature

    def _major_version(self) -> int:
        out = self._run(["version"])
        match = re.search(rb"GitVersion:\s*v?(\d+)\.", out) or re.search(rb"\bv(\d+)\.\d+", out)
        return int(match.group(1)) if match else 3

    def _load_public_key(self) -> PublicKey:
        return parse_public_key(self._run(["public-key", "--key", self._key_path]), f"cosign public-key --key {self._key_path}")

    def _run(self, args: list[str]) -> bytes:
        import sh

        command = sh.Command(self._cosign)
        try:
            result = command(*args, _env=dict(os.environ), _in=b"", _timeout=COSIGN_TIMEOUT, _return_cmd=True)
        except sh.ErrorReturnCode as exc:
            raise SigningError(f"cosign {args[0]} failed (exit {exc.exit_code}): {_first_line(exc.stderr)}") from None
        except sh.TimeoutException:
            raise SigningError(f"cosign {args[0]} did not finish within {COSIGN_TIMEOUT:.0f} s") from None
        stdout: bytes = result.stdout
        return stdout
