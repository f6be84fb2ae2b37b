"""Parameter strictness: when several profiles set a value, the strictest wins."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.models.params import BOUNDS, FIXED, HIGHER, INTERSECTION, LOWER, UNION, Bound, merge


def test_each_kind() -> None:
    assert LOWER.stricter(30, 14) == 14 and LOWER.stricter(14, 30) == 14
    assert HIGHER.stricter(0.9, 1.0) == 1.0
    assert UNION.stricter(["telnet"], ["rsh", "telnet"]) == ["telnet", "rsh"]
    assert INTERSECTION.stricter(["a", "b"], ["b", "c"]) == ["b"]
    assert INTERSECTION.stricter(None, [22]) == [22]  # None: not constrained
    assert merge(BOUNDS).stricter({"a": ">=1"}, {"a": ">=2", "b": "0"}) == {"a": ">=2", "b": "0"}
    with pytest.raises(ValueError):
        FIXED.stricter("x", "y")
    with pytest.raises(ValueError, match="cannot both hold"):
        BOUNDS.stricter("0", ">=1")


bounds = st.builds(lambda op, v: f"{op}{v}", st.sampled_from(["", ">=", "<="]), st.integers(-5, 5))


@given(bounds, bounds, st.integers(-10, 10))
def test_a_tightened_bound_accepts_only_what_both_accept(a: str, b: str, value: int) -> None:
    try:
        tight = Bound.parse(BOUNDS.stricter(a, b))
    except ValueError:
        # no value satisfies both (or the pair cannot be combined): nothing to check
        return
    both = Bound.parse(a).accepts(value) and Bound.parse(b).accepts(value)
    assert tight.accepts(value) == both


@given(bounds, bounds)
def test_tightening_is_symmetric(a: str, b: str) -> None:
    def safe(x: str, y: str) -> str | None:
        try:
            return BOUNDS.stricter(x, y)
        except ValueError:
            return None

    assert safe(a, b) == safe(b, a) or {Bound.parse(a).op, Bound.parse(b).op} == {"=="}


def test_bounds_in_opposite_directions() -> None:
    assert BOUNDS.stricter(">=2", "<=2") == "2"  # only one value satisfies both
    with pytest.raises(ValueError, match="cannot both hold"):
        BOUNDS.stricter(">=3", "<=2")
    with pytest.raises(ValueError, match="together allow a range"):
        BOUNDS.stricter(">=1", "<=5")  # both can hold: the message must not say otherwise
