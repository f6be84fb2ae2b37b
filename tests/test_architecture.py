"""The package map: stage folders, one file name per module, one-way imports.

The import contracts themselves are in pyproject.toml (``[tool.importlinter]``) and run in
scripts/test; these tests keep the rules that import-linter cannot express.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "compliance"
STAGES = {
    "models", "util", "nix", "inputs", "checks", "predicates", "probes", "hosts", "vulns",
    "catalog", "assess", "formats", "report", "sbomgen", "signing", "evidence", "runs",
    "promote", "cli",
}


def test_no_two_modules_share_a_file_name() -> None:
    names = collections.Counter(
        p.name for p in PACKAGE.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")
    )
    assert [n for n, c in names.items() if c > 1] == []


def test_top_level_holds_only_the_stage_folders() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    modules = {p.name for p in PACKAGE.glob("*.py")}
    assert folders == STAGES
    assert modules == {"__init__.py", "__main__.py", "errors.py"}


def test_every_package_says_what_its_stage_is_for() -> None:
    for stage in STAGES:
        init = PACKAGE / stage / "__init__.py"
        assert init.is_file(), stage
        assert init.read_text(encoding="utf-8").lstrip().startswith('"""'), f"{stage}/__init__.py has no docstring"


def test_a_static_gate_imports_no_transport() -> None:
    code = (
        "import sys\n"
        "from compliance.runs import gate_run\n"
        "from compliance.catalog.loader import load_catalog\n"
        "load_catalog()\n"
        "bad = [m for m in sys.modules if m.startswith(('compliance.hosts.ssh', 'compliance.hosts.remote_script'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(shutil.which("lint-imports") is None and not (Path(sys.executable).parent / "lint-imports").exists(),
                    reason="import-linter is not installed")
def test_a_back_import_breaks_the_contracts(tmp_path: Path) -> None:
    """A deliberate import of a later stage from an earlier one must fail lint-imports."""
    copy = tmp_path / "repo"
    shutil.copytree(PACKAGE, copy / "compliance", ignore=shutil.ignore_patterns("__pycache__", "_data"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    victim = copy / "compliance" / "util" / "clock.py"
    victim.write_text(victim.read_text(encoding="utf-8") + "\nfrom compliance.cli import main  # noqa\n", encoding="utf-8")
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([exe, "--no-cache"], cwd=copy, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy)})
    assert result.returncode != 0
    assert "compliance.util.clock -> compliance.cli" in result.stdout
