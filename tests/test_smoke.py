from __future__ import annotations

from pathlib import Path

from tests.support import nix
from tests.support.cli import run


@nix.requires_nix
def test_gate_on_a_real_closure_reports_every_control(tmp_path: Path) -> None:
    store_path = nix.build_release(tmp_path)
    result = run("gate", "--closure", store_path, "--format", "text")
    assert result.code == 1, result.stderr  # no facts: facts controls are errors, the gate fails closed
    assert "SC-11" in result.stdout and "PASS" in result.stdout
    assert "needs NixOS configuration facts" in result.stdout
