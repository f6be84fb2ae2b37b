"""A small, realistic release for CLI tests, written by the benchmark generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.generate import FACTS, flake_lock, generate_closure, generate_sbom

# 2026-10-22: ten days before the tests' fixed clock (2026-11-01).
RECENT = 1_792_627_200
# A clean grype scan of the SBOM one hour before the tests' clock, on a database of that day.
CLEAN_SCAN = {"matches": [], "source": {"type": "sbom", "target": "sbom.cdx.json"},
              "descriptor": {"name": "grype", "version": "0.94.0", "timestamp": "2026-10-31T23:00:00Z",
                             "db": {"status": {"built": "2026-10-31T04:00:00Z"}}}}


def write_release(directory: Path, paths: int = 40, facts: dict[str, Any] | None = None) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    entries = generate_closure(paths)["entries"]
    files = {
        "closure": directory / "closure.json",
        "sbom": directory / "sbom.cdx.json",
        "facts": directory / "facts.json",
        "lock": directory / "flake.lock",
        "vulns": directory / "grype.json",
    }
    files["closure"].write_text(json.dumps(entries))
    files["sbom"].write_text(json.dumps(generate_sbom(entries)))
    files["facts"].write_text(json.dumps(facts if facts is not None else FACTS))
    files["lock"].write_text(json.dumps(flake_lock(RECENT)))
    files["vulns"].write_text(json.dumps(CLEAN_SCAN))
    return files


def gate_args(files: dict[str, Path]) -> list[str]:
    return ["gate", "--closure", str(files["closure"]), "--sbom", str(files["sbom"]), "--facts", str(files["facts"]), "--flake-lock", str(files["lock"]),
            "--vulns", str(files["vulns"])]


def with_option(facts: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A deep copy of ``facts`` with one option changed."""
    copy = json.loads(json.dumps(facts))
    node = copy["options"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy
