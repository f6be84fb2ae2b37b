"""The kernel build options are read from the kernel configuration the closure ships."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support import nix
from tests.support.cli import run

WEAK = nix.HARDENED_KCONFIG.replace("CONFIG_STRICT_KERNEL_RWX=y", "# CONFIG_STRICT_KERNEL_RWX is not set").replace(
    "# CONFIG_PROC_KCORE is not set", "CONFIG_PROC_KCORE=y"
)


def _sc12(*args: str) -> dict[str, object]:
    result = run("gate", *args, "--format", "json")
    assert result.code in (0, 1), result.stderr
    return next(r for r in json.loads(result.stdout)["assessment"]["results"] if r["control_id"] == "SC-12")


@nix.requires_nix
def test_hardened_and_weak_kernels_in_real_closures(tmp_path: Path) -> None:
    hardened = nix.build_release(tmp_path, name="hardened")
    weak = nix.build_release(tmp_path, kconfig=WEAK, name="weak")
    good = _sc12("--closure", hardened)
    bad = _sc12("--closure", weak)
    assert good["status"] == "pass", good
    assert "linux-config-6.6.30" in str(good["message"])
    assert bad["status"] == "fail"
    observed = bad["checks"][0]["observed"]  # type: ignore[index]
    assert observed["not_as_required"] == {"CONFIG_STRICT_KERNEL_RWX": {"value": "n", "allowed": ["y"]}}
    assert observed["forbidden_set"] == ["CONFIG_PROC_KCORE"]


@nix.requires_nix
def test_path_info_alone_cannot_show_the_kernel_configuration(tmp_path: Path) -> None:
    top = nix.build_release(tmp_path)
    pi = tmp_path / "pi.json"
    pi.write_bytes(subprocess.run(["nix", "path-info", "--json", "--recursive", top], capture_output=True, check=True, env=nix.nix_env()).stdout)
    blind = _sc12("--closure", str(pi))
    assert blind["status"] == "error"
    assert "gives no file contents" in str(blind["message"])
    config = tmp_path / "kernel.config"
    config.write_text(WEAK)
    told = _sc12("--closure", str(pi), "--kernel-config", str(config))
    assert told["status"] == "fail"
