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

from compliance.errors import CanonicalizationError


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
    """The RFC 8785 bytes of ``value`` (UTF-8).

    orjson with sorted keys writes these bytes for nearly every document: it escapes
    strings and writes integers as RFC 8785 does, and sorts keys the same way as long as
    they stay in the BMP (it sorts by code point, RFC 8785 by UTF-16 code unit). Floats are
    handed to it already written (orjson writes 1.0 and 1e21 where RFC 8785 writes 1 and
    1e+21). Anything else (a key outside the BMP, an integer beyond 64 bits, a value that
    is not plain JSON) goes through the exact encoder above, which also raises the errors.
    Several times faster on the documents the tool signs and verifies by the thousand.
    """
    ready = _orjson_ready(value)
    if ready is not None:
        try:
            return orjson.dumps(ready, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer beyond 64 bits, a lone surrogate: the exact encoder decides
            pass
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def _outside_bmp(key: str) -> bool:
    return not key.isascii() and any(ord(c) > 0xFFFF for c in key)


def _orjson_ready(value: Any) -> Any:
    """``value`` (floats written as RFC 8785 fragments) if orjson can write it exactly;
    ``None`` if only the exact encoder can."""
    has_float = False
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str or _outside_bmp(key):
                    return None
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is float:
            has_float = True
        elif not (kind is str or kind is int or kind is bool or item is None):
            return None
    return _with_float_fragments(value) if has_float else value


def _with_float_fragments(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: _with_float_fragments(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_with_float_fragments(v) for v in value]
    if kind is float:
        return orjson.Fragment(_number(value))
    return value


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


_OUTSIDE_BMP_LEAD = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")  # first bytes of 4-byte UTF-8


def is_canonical(data: bytes, parsed: Any) -> bool:
    """``canonical_json(parsed) == data`` where ``parsed`` is ``orjson.loads(data)``, in
    half the time: a document read from JSON has only string keys, and any key outside
    the BMP shows in ``data`` as a 4-byte sequence (or as an escape, which no canonical
    form has), so without floats and such bytes orjson's sorted output is the canonical
    form. Verifiers check every signed payload this way."""
    if type(parsed) is not dict and type(parsed) is not list:
        return canonical_json(parsed) == data
    if _has_float(parsed) or (not data.isascii() and any(lead in data for lead in _OUTSIDE_BMP_LEAD)):
        return canonical_json(parsed) == data
    return orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS) == data
