"""The fast paths the wave gate verifies a thousand reports with give exactly the answers
of the reference implementations: canonical JSON through orjson writes the bytes of the
RFC 8785 encoder for any JSON value (floats, integers beyond 64 bits, characters outside
the BMP in keys and strings, control characters); the canonical check of a payload
agrees with it whatever spelling the payload arrives in; strict base64 refuses exactly
what a full re-encoding refuses."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.errors import CanonicalizationError, VerificationError
from compliance.signing.encoding import strict_b64decode
from compliance.util.canonical import _encode, canonical_json, is_canonical

keys = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4) | st.sampled_from(
    ["\ue000", "\U0001f600", "a", "\u00e9", "\x1f", "\u2028"])
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=6))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=20)


def reference(value: Any) -> bytes:
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


@settings(max_examples=500)
@given(values)
def test_the_fast_path_writes_the_reference_bytes(value: Any) -> None:
    assert canonical_json(value) == reference(value)


def _spellings(value: Any) -> list[bytes]:
    out = [json.dumps(value, ensure_ascii=False).encode(), json.dumps(value, indent=1).encode(), reference(value)]
    for make in (lambda v: orjson.dumps(v, option=orjson.OPT_SORT_KEYS), orjson.dumps):
        with contextlib.suppress(TypeError):  # orjson refuses integers beyond 64 bits
            out.append(make(value))
    return out


@settings(max_examples=200)
@given(st.dictionaries(keys, values, max_size=5))
def test_the_canonical_check_of_a_payload_does_not_depend_on_the_path(value: Any) -> None:
    for data in _spellings(value):
        parsed = orjson.loads(data)
        assert (canonical_json(parsed) == data) == (reference(parsed) == data)


@pytest.mark.parametrize("value", [
    {"a": 1e20}, {"a": -9.223372036854776e18}, {"a": 1e21}, {"a": 1.0}, {"a": 0.5}, {"a": -0.0}, [1, 2.5, "x"],
    {"\ue000": 1, "\U0001f600": 2}, {"k": "\U0001f600\x1f\u2028"}, {"a": 2**64}, {"a": -(2**63) - 1}, (1, 2), "text", 12, None,
])
def test_edge_cases(value: Any) -> None:
    assert canonical_json(value) == reference(value)


@pytest.mark.parametrize("value", [{"a": float("nan")}, {"a": "\ud800"}, {1: "non-string key"}, {"a": object()}])
def test_what_cannot_be_canonical_still_raises(value: Any) -> None:
    with pytest.raises(CanonicalizationError):
        canonical_json(value)


@settings(max_examples=300)
@given(st.dictionaries(keys, values, max_size=5) | st.lists(values, max_size=4))
def test_the_check_of_a_parsed_payload_agrees_with_the_encoder(value: Any) -> None:
    for data in _spellings(value):
        parsed = orjson.loads(data)
        assert is_canonical(data, parsed) == (reference(parsed) == data), data


@pytest.mark.parametrize("data", [
    b'{"a":100000000000000000000}', b'{"a":-9223372036854776000}', b'{"a":1e+21}', b'{"a":1.0}', b'{"a":1}',
    '{"\ue000":1,"\U0001f600":2}'.encode(), '{"\U0001f600":2,"\ue000":1}'.encode(), b'{"\\ud83d\\ude00":2,"\\ue000":1}',
    b'{"a":"\\u001f"}', b'{"a":"\\u001F"}', b'{"b":1,"a":2}', b'{"a":1,"a":1}', b'"text"', b"12", b"[0.5]",
])
def test_edge_cases_of_the_check(data: bytes) -> None:
    parsed = orjson.loads(data)
    assert is_canonical(data, parsed) == (reference(parsed) == data)


@settings(max_examples=300)
@given(st.binary(max_size=40), st.integers(0, 63), st.sampled_from(["", "=", "==", "A", "\n", " "]))
def test_strict_base64_refuses_exactly_what_a_full_reencoding_refuses(data: bytes, tweak: int, suffix: str) -> None:
    """The fast strict decoder the gate reads envelopes with: one spelling per byte string."""
    text = base64.b64encode(data).decode()
    if text:  # change the unused bits of the last group, or not
        last = text.rstrip("=")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        text = last[:-1] + alphabet[(alphabet.index(last[-1]) + tweak) % 64] + text[len(last):]
    text += suffix
    try:
        reference = base64.b64decode(text, validate=True)
        accepted = base64.b64encode(reference).decode() == text
    except (binascii.Error, ValueError):
        accepted = False
    try:
        decoded = strict_b64decode(text, source="t", what="x")
    except VerificationError:
        assert not accepted, text
    else:
        assert accepted and decoded == reference, text
