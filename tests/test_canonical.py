"""Canonical JSON (RFC 8785): what signed documents are made of."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.errors import CanonicalizationError
from compliance.util.canonical import canonical_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_canonical_json_parses_back_to_the_same_value(value: object) -> None:
    data = canonical_json(value)
    # JSON numbers are IEEE doubles: an integer literal beyond 2**53 reads back as one.
    parsed = json.loads(data, parse_int=lambda s: int(s) if abs(int(s)) <= 2**53 else float(s))
    assert parsed == value
    assert canonical_json(parsed) == data  # idempotent


@given(st.dictionaries(st.text(max_size=6), st.integers(), min_size=2, max_size=8))
def test_key_order_does_not_matter(value: dict[str, int]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert canonical_json(value) == canonical_json(reordered)


@pytest.mark.parametrize(("value", "expected"), [
    # RFC 8785 appendix B and §3.2.2.3 number examples
    (1e21, b"1e+21"), (1e-7, b"1e-7"), (0.000001, b"0.000001"), (-0.0, b"0"),
    (123456789012345680000.0, b"123456789012345680000"), (5e-324, b"5e-324"),
    (1.7976931348623157e308, b"1.7976931348623157e+308"), (9.8, b"9.8"), (100.0, b"100"),
    ({"\u20ac": 1, "\r": 2, "1": 3, "\U0001f600": 4, "\u0080": 5, "\u00f6": 6}, '{"\\r":2,"1":3,"\u0080":5,"\u00f6":6,"\u20ac":1,"\U0001f600":4}'.encode()),
    ("\u2028\u00e9\x1f", '"\u2028\u00e9\\u001f"'.encode()),
])
def test_known_vectors(value: object, expected: bytes) -> None:
    assert canonical_json(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1: "x"}, {"a": object()}, "\ud800"])
def test_values_without_a_canonical_form(value: object) -> None:
    with pytest.raises(CanonicalizationError):
        canonical_json(value)
