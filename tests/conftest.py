"""Shared fixtures. Third-party data lives in ../shared/data (absent in a plain clone:
tests that need it skip)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Explicit registration: importing these two packages registers every check.
import compliance.predicates
import compliance.probes  # noqa: F401  (registers every probe)

# Property tests judge correctness, never speed: on a loaded two-core machine a slow input
# generator is not a failure, and no example has a deadline.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (third-party test data)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run at a fixed time unless they say otherwise (2026-11-01T00:00:00Z)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1793491200")
