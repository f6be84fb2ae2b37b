"""Vulnerability reports and VEX documents (placeholder until the readers land)."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError


def load_vulnerability_reports(items: list[tuple[str, bytes]]) -> Any:
    raise UsageError("--vulns: vulnerability reports are not supported yet")
