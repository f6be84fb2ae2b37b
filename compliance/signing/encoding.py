"""Strict base64 for everything the verifier reads.

Python's decoder accepts several spellings of the same bytes (non-zero padding bits,
missing padding with ``validate=False``); a verifier that accepts them lets a file change
without the change being detected. Signature files and bundles written by this tool use
standard base64 with padding and nothing else, and are read back only in that form.
"""

from __future__ import annotations

import base64
import binascii

from compliance.errors import VerificationError


def b64encode(data: bytes) -> str:
    """Standard base64 with padding, as text (what DSSE and Sigstore documents carry)."""
    return base64.b64encode(data).decode("ascii")


def strict_b64decode(text: str | bytes, *, source: str, what: str) -> bytes:
    """Decode standard padded base64 whose re-encoding is exactly ``text``.

    Strict mode admits only the alphabet, with padding and nothing after it; the other
    spellings it lets through are padding where none is due (``AAAA=``), which the length
    shows, and non-zero unused bits in the last group of four, which re-encoding the last
    one or two bytes shows. (Re-encoding everything did the same in twice the time, which
    counts when a wave gate reads a thousand reports.)
    """
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    try:
        decoded = binascii.a2b_base64(raw, strict_mode=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"{source}: {what} is not valid base64") from None
    tail = len(decoded) % 3
    if len(raw) != 4 * -(-len(decoded) // 3) or (tail and base64.b64encode(decoded[-tail:]) != raw[-4:]):
        raise VerificationError(f"{source}: {what} is not in canonical base64 form")
    return decoded
