"""The fail-fixture assertion itself: it refuses a fail reached through an error, through
another check, or for another reason than the one stated."""

from __future__ import annotations

import pytest

from tests.support.fixture_expect import assert_fails_as_expected, subset_mismatch

CHECKS = [
    {"function": "password_hashing", "status": "fail", "message": "weak password hashes: alice ($1$)", "observed": {"weak": ["alice"]}},
    {"function": "no_empty_passwords", "status": "error", "message": "/etc/passwd is missing", "observed": {}},
]
HASHING = {"check": "password_hashing", "message": "alice ($1$)", "observed": {"weak": ["alice"]}}


def test_an_error_the_fixture_does_not_state_is_refused() -> None:
    with pytest.raises(AssertionError, match="no_empty_passwords: error: /etc/passwd is missing"):
        assert_fails_as_expected("IA-05", [HASHING], CHECKS)


def test_a_stated_error_is_accepted() -> None:
    assert_fails_as_expected("IA-05", [HASHING, {"check": "no_empty_passwords", "status": "error", "message": "is missing"}], CHECKS)


@pytest.mark.parametrize(("entry", "words"), [
    ({**HASHING, "message": "bob ($1$)"}, "expected it to say 'bob"),
    ({**HASHING, "observed": {"weak": ["bob"]}}, "observed.weak is"),
    ({**HASHING, "observed": {"schemes": {}}}, "observed.schemes is missing"),
    ({**HASHING, "status": "error"}, "expected error"),
])
def test_another_reason_is_refused(entry: dict[str, object], words: str) -> None:
    with pytest.raises(AssertionError, match=words.replace("(", r"\(").replace("$", r"\$")):
        assert_fails_as_expected("IA-05", [entry, {"check": "no_empty_passwords", "status": "error"}], CHECKS)


def test_a_fixture_without_expectations_is_refused() -> None:
    with pytest.raises(AssertionError, match="must say which check fails"):
        assert_fails_as_expected("IA-05", None, CHECKS)


def test_observed_values_match_as_a_subset() -> None:
    assert subset_mismatch({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3}) is None
    assert subset_mismatch({"a": [1]}, {"a": [1, 2]}) == "observed.a is [1, 2], expected [1]"
