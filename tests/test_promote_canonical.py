"""The fast canonical-form check the wave gate verifies reports with gives exactly the
answer of the RFC 8785 encoder, for any JSON spelt any way: canonical, sorted by orjson,
unsorted, indented, ASCII-escaped; with floats, integers beyond 64 bits, characters
outside the BMP in keys."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.canonical import canonical_json, is_canonical

keys = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4) | st.sampled_from(
    ["\ue000", "\U0001f600", "a", "\u00e9", "\x1f"])
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=6))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=20)
containers = st.lists(values, max_size=4) | st.dictionaries(keys, values, max_size=5)


def _spellings(value: Any) -> list[bytes]:
    out = [json.dumps(value, ensure_ascii=False).encode(), json.dumps(value, indent=1).encode(),
           json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()]
    for make in (lambda v: canonical_json(v), lambda v: orjson.dumps(v, option=orjson.OPT_SORT_KEYS), orjson.dumps):
        with contextlib.suppress(TypeError, ValueError):  # orjson refuses integers beyond 64 bits
            out.append(make(value))
    return out


def _agrees(data: bytes) -> None:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    assert is_canonical(data, parsed) == (canonical_json(parsed) == data), data


@settings(max_examples=400)
@given(containers)
def test_the_fast_check_agrees_with_the_encoder(value: Any) -> None:
    for data in _spellings(value):
        _agrees(data)


@pytest.mark.parametrize("data", [
    b'{"a":100000000000000000000}',  # read as the float 1e20, whose JCS form is these digits
    b'{"a":-9223372036854776000}',  # beyond 64 bits, negative: a float too
    b'{"a":1e+21}', b'{"a":1e21}', b'{"a":1.0}', b'{"a":1}', b'{"a":0.5}', b'{"a":-0}',
    '{"\ue000":1,"\U0001f600":2}'.encode(), '{"\U0001f600":2,"\ue000":1}'.encode(),
    b'{"a":"\\u001f"}', b'{"a":"\\u001F"}', b'{"b":1,"a":2}', b'{"a":1,"a":1}', b'[1,2.5,"x"]', b'"text"', b"12",
    b'{"listen":"tcp:0.0.0.0:2024","n":1}',
])
def test_edge_cases_agree(data: bytes) -> None:
    _agrees(data)


def test_the_fast_check_is_exact_on_these() -> None:
    assert is_canonical(b'{"a":100000000000000000000}', orjson.loads(b'{"a":100000000000000000000}'))
    assert not is_canonical(b'{"a":1.0}', {"a": 1.0})
    assert is_canonical('{"\U0001f600":2,"\ue000":1}'.encode(), {"\ue000": 1, "\U0001f600": 2})
    assert not is_canonical('{"\ue000":1,"\U0001f600":2}'.encode(), {"\ue000": 1, "\U0001f600": 2})
