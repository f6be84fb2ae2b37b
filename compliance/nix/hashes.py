"""Nix hash notations → hex.

Nix prints a NAR hash as SRI (``sha256-<base64>``), as ``sha256:<nix-base32>`` or as
``sha256:<hex>``, and reads ``sha256:<base64>`` too (the encoding after the colon is told
by its length); evidence and SBOMs want lower-case hex. Nix's base32 uses its own
alphabet and reads the digest bytes in reverse order.
"""

from __future__ import annotations

import base64
import binascii

from compliance.errors import HashFormatError

NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"
_NIX32_INDEX = {c: i for i, c in enumerate(NIX32)}
_SIZES = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}


def nix32_decode(text: str, size: int) -> bytes:
    """Bytes of a Nix base-32 digest of ``size`` bytes (Nix's own alphabet and bit order)."""
    if len(text) != (size * 8 - 1) // 5 + 1:
        raise HashFormatError(f"nix-base32 digest of {size} bytes cannot have {len(text)} characters")
    out = bytearray(size)
    for n, char in enumerate(reversed(text)):
        digit = _NIX32_INDEX.get(char)
        if digit is None:
            raise HashFormatError(f"{char!r} is not a nix-base32 character")
        bit = n * 5
        i, j = divmod(bit, 8)
        out[i] |= (digit << j) & 0xFF
        carry = digit >> (8 - j)
        if i + 1 < size:
            out[i + 1] |= carry
        elif carry:
            raise HashFormatError("nix-base32 digest overflows")
    return bytes(out)


def nix32_encode(digest: bytes) -> str:
    """A digest in Nix base-32, as store paths and narHash print it."""
    length = (len(digest) * 8 - 1) // 5 + 1
    chars = []
    for n in range(length - 1, -1, -1):
        bit = n * 5
        i, j = divmod(bit, 8)
        c = digest[i] >> j
        if i + 1 < len(digest):
            c |= digest[i + 1] << (8 - j)
        chars.append(NIX32[c & 0x1F])
    return "".join(chars)


def _base64(text: str, algo: str, size: int) -> str:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HashFormatError("invalid base64 digest") from None
    if len(raw) != size:
        raise HashFormatError(f"{algo} digest must be {size} bytes")
    return raw.hex()


def to_hex(value: str) -> tuple[str, str]:
    """Any Nix hash notation → (algorithm, lower-case hex)."""
    if "-" in value and ":" not in value:
        algo, _, b64 = value.partition("-")
        size = _SIZES.get(algo)
        if size is None:
            raise HashFormatError(f"unknown hash algorithm {algo!r}")
        return algo, _base64(b64, algo, size)
    algo, sep, digest = value.partition(":")
    if not sep:
        raise HashFormatError(f"{value!r} is not a Nix hash")
    size = _SIZES.get(algo)
    if size is None:
        raise HashFormatError(f"unknown hash algorithm {algo!r}")
    if len(digest) == size * 2:
        try:
            return algo, bytes.fromhex(digest).hex()
        except ValueError:
            raise HashFormatError("invalid hex digest") from None
    if len(digest) == 4 * ((size + 2) // 3):
        return algo, _base64(digest, algo, size)
    return algo, nix32_decode(digest, size).hex()


def sha256_hex(value: str) -> str:
    """The hex SHA-256 of a hash in any notation Nix prints (sha256:nix32, sha256:hex, SRI)."""
    algo, digest = to_hex(value)
    if algo != "sha256":
        raise HashFormatError(f"expected a sha256 hash, got {algo}")
    return digest


def to_sri(algo: str, hex_digest: str) -> str:
    """A hex digest as an SRI string (``sha256-<base64>``), as current Nix prints NAR hashes."""
    return f"{algo}-{base64.b64encode(bytes.fromhex(hex_digest)).decode()}"
