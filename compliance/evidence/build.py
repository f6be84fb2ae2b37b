"""Building evidence packets (placeholder until the packet builder lands)."""

from __future__ import annotations

from ..errors import UsageError
from ..pipeline import GateRun


def build_packet(run: GateRun, out: str, *, key_path: str, signer: str = "native") -> None:
    raise UsageError("--evidence: evidence packets are not available yet")
