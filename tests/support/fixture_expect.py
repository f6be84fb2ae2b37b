"""What a fail fixture says about why it fails, and the assertion that holds it to that.

A fail fixture (``tests/fixtures/controls/<ID>/fail.json``) lists, per check kind, every
check that does not pass and why::

    "expect": {
      "static": [{"check": "sysctl_baseline",
                  "message": "kernel.kptr_restrict is 0, expected 2",     # a substring, or a list of them
                  "observed": {"mismatches": {"kernel.kptr_restrict": {"value": 0}}}}],  # a subset
      "runtime": [{"check": "no_empty_passwords", "status": "error", "message": "..."}]
    }

``status`` is ``fail`` unless given. The checks that fail (or error) are exactly those
listed: a fixture cannot reach "fail" through a check that errors on missing input, nor
through another check than the one it is about. ``observed`` matches as a subset: each key
given must be there with that value (dictionaries compared key by key, other values equal).
"""

from __future__ import annotations

from typing import Any

DECIDED = {"pass", "not_applicable"}


def subset_mismatch(expected: Any, actual: Any, where: str = "observed") -> str | None:
    """Where ``actual`` departs from ``expected`` (None when ``expected`` is a subset)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where} is {actual!r}, not a mapping"
        for key, value in expected.items():
            if key not in actual:
                return f"{where}.{key} is missing (observed: {sorted(actual)})"
            if (problem := subset_mismatch(value, actual[key], f"{where}.{key}")) is not None:
                return problem
        return None
    return None if expected == actual else f"{where} is {actual!r}, expected {expected!r}"


def assert_fails_as_expected(label: str, expected: list[dict[str, Any]] | None, checks: list[dict[str, Any]]) -> None:
    """Assert that the checks that did not pass are exactly ``expected``, for its reasons."""
    assert expected, f"{label}: a fail fixture must say which check fails and why (\"expect\", see tests/support/fixture_expect.py)"
    failing = {c["function"]: c for c in checks if c["status"] not in DECIDED}
    named = [e["check"] for e in expected]
    assert sorted(failing) == sorted(named), (
        f"{label}: checks that did not pass {sorted(failing)}, the fixture expects {sorted(named)}: "
        + "; ".join(f"{c['function']}: {c['status']}: {c['message']}" for c in checks)
    )
    for entry in expected:
        got = failing[entry["check"]]
        status = entry.get("status", "fail")
        assert got["status"] == status, f"{label}: {entry['check']} is {got['status']} ({got['message']}), expected {status}"
        words = entry.get("message", [])
        for word in [words] if isinstance(words, str) else words:
            assert word in got["message"], f"{label}: {entry['check']} says {got['message']!r}, expected it to say {word!r}"
        problem = subset_mismatch(entry.get("observed", {}), got["observed"])
        assert problem is None, f"{label}: {entry['check']}: {problem}"
