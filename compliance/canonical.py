"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme).

Signed documents (packet manifest, in-toto statement, probe reports, decisions) are
serialised this way so that anyone can re-derive the exact signed bytes: object keys
sorted by UTF-16 code units, no insignificant white space, strings escaped minimally,
numbers printed as ECMAScript does. nixfleet-compliance hosts sign JCS too, so the same
function verifies their evidence.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from .errors import ComplianceError


class CanonicalizationError(ComplianceError):
    """The value cannot be represented in canonical JSON (NaN, infinity, a non-string key)."""


def _number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise CanonicalizationError(f"cannot canonicalise non-finite number {value!r}")
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    # ECMAScript Number::toString: shortest round-trip digits, exponent outside [1e-6, 1e21).
    digits, exponent = _shortest(abs(value))
    sign = "-" if value < 0 else ""
    n = exponent + 1  # position of the decimal point relative to the digits
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exp = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'+' if exp > 0 else '-'}{abs(exp)}"


def _shortest(value: float) -> tuple[str, int]:
    """Shortest digit string and decimal exponent of the first digit (repr is shortest round-trip)."""
    text = repr(value)
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    if frac_part == "0":
        frac_part = ""
    digits = (int_part + frac_part).lstrip("0")
    lead_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    point = len(int_part) - lead_zeros - 1 + exponent
    digits = digits.rstrip("0") or "0"
    return digits, point


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalizationError(f"object key {key!r} is not a string")
        out.append("{")
        first = True
        for key in sorted(value, key=lambda k: k.encode("utf-16-be")):
            if not first:
                out.append(",")
            first = False
            out.append(_string(key))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise CanonicalizationError(f"cannot canonicalise a value of type {type(value).__name__}")


def _string(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalizationError("string holds a lone surrogate") from None
    return json.dumps(value, ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value`` (UTF-8)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def _has_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        for child in item.values() if type(item) is dict else item:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append(child)
            elif kind is float:
                return True
    return False


_OUTSIDE_BMP = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")  # first bytes of 4-byte UTF-8


def is_canonical(data: bytes, value: Any) -> bool:
    """Whether ``data`` are the canonical bytes of ``value`` (``orjson.loads(data)``).

    Same answer as ``canonical_json(value) == data``, several times faster for the
    documents verifiers meet: orjson with sorted keys escapes strings and writes integers
    exactly as RFC 8785 does, and sorts keys the same way within the BMP. Only a float
    (orjson writes 1.0 and 1e21, JCS 1 and 1e+21; orjson also reads integers beyond 64
    bits as floats) or a character outside the BMP (orjson sorts keys by code point, JCS
    by UTF-16 code unit) needs the exact encoder. The wave gate verifies a thousand
    reports this way.
    """
    if type(value) is not dict and type(value) is not list:
        return canonical_json(value) == data
    if _has_float(value) or (not data.isascii() and any(b in data for b in _OUTSIDE_BMP)):
        return canonical_json(value) == data
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == data
    except TypeError:  # a value orjson cannot write: the exact encoder decides
        return canonical_json(value) == data
