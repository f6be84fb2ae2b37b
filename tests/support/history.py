"""Releases of the bundled example (examples/web) changing over time, and their packets.

The example release is copied into a working folder; each edit changes one thing the way
a real release would (a NixOS option, a package upgraded across the closure and the SBOM,
a finding gone from the scan), and the packet is built in place, so that the file names
the packets record are the same and only the edits differ.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from compliance.runs.evidence_run import packet_files
from compliance.runs.gate_run import GateOptions, GateRun, run_gate
from tests.support.cli import ROOT
from tests.support.evidence import KeyPair, write_directory

EXAMPLE = ROOT / "examples" / "web"
# The day the example release was assessed (scripts/demo): its waiver and scan are current.
EXAMPLE_TIME = 1_729_814_400
PROFILES = ["nis2-important", "anssi-intermediary"]
FILES = ("closure.json", "sbom.cdx.json", "facts.json", "flake.lock", "kernel.config", "grype.json", "vex.openvex.json",
         "policy.toml", "waivers.toml")

UPGRADED = ("curl", "0.5.4", "0.5.5")  # the package upgraded: name, old and new version
FIXED_CVE = "CVE-2023-45853"  # the finding gone from the scan (zlib, below the threshold)
PORT_OPTION = ["networking", "firewall", "allowedTCPPorts"]


def copy_example(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(EXAMPLE / name, directory / name)
    return directory


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def _dump(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=1))


def set_option(directory: Path, path: list[str], value: Any) -> None:
    facts = _load(directory / "facts.json")
    node = facts["options"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    _dump(directory / "facts.json", facts)


def _replace_strings(doc: Any, mapping: dict[str, str]) -> Any:
    if isinstance(doc, str):
        for old, new in mapping.items():
            doc = doc.replace(old, new)
        return doc
    if isinstance(doc, list):
        return [_replace_strings(item, mapping) for item in doc]
    if isinstance(doc, dict):
        return {_replace_strings(k, mapping): _replace_strings(v, mapping) for k, v in doc.items()}
    return doc


def upgrade_package(directory: Path, name: str, old: str, new: str) -> list[str]:
    """Every store path of ``name`` at ``old`` becomes one at ``new`` (new hash), in the
    closure and in the SBOM. Returns the old store paths."""
    closure = _load(directory / "closure.json")
    mapping: dict[str, str] = {}
    for entry in closure:
        base = entry["path"].rsplit("/", 1)[1]
        digest, _, rest = base.partition("-")
        if rest == f"{name}-{old}" or rest.startswith(f"{name}-{old}-"):
            mapping[base] = digest[::-1] + "-" + rest.replace(f"{name}-{old}", f"{name}-{new}", 1)
    assert mapping, f"no store path of {name}-{old} in the example closure"
    mapping[f"pkg:nix/{name}@{old}"] = f"pkg:nix/{name}@{new}"
    _dump(directory / "closure.json", _replace_strings(closure, mapping))
    sbom = _replace_strings(_load(directory / "sbom.cdx.json"), mapping)
    for component in sbom.get("components", []):
        if component.get("name") == name and component.get("version") == old:
            component["version"] = new
    _dump(directory / "sbom.cdx.json", sbom)
    return sorted(f"/nix/store/{base}" for base in mapping if not base.startswith("pkg:"))


def fix_vulnerability(directory: Path, cve: str) -> None:
    scan = _load(directory / "grype.json")
    before = len(scan["matches"])
    scan["matches"] = [m for m in scan["matches"] if m["vulnerability"]["id"] != cve]
    assert len(scan["matches"]) == before - 1, f"{cve} is not in the example scan"
    _dump(directory / "grype.json", scan)


@contextmanager
def epoch(at: int) -> Iterator[None]:
    """``SOURCE_DATE_EPOCH`` set to ``at`` for the duration: the time of the assessment and
    of the report, as in a build."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(at)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def gate(directory: Path) -> GateRun:
    return run_gate(
        GateOptions(
            profiles=list(PROFILES),
            closure=str(directory / "closure.json"),
            sbom=str(directory / "sbom.cdx.json"),
            facts=str(directory / "facts.json"),
            flake_lock=str(directory / "flake.lock"),
            kernel_config=str(directory / "kernel.config"),
            vulns=[str(directory / "grype.json"), str(directory / "vex.openvex.json")],
            policy=str(directory / "policy.toml"),
            waivers=str(directory / "waivers.toml"),
        )
    )


def build(directory: Path, keys: KeyPair, out: Path, *, at: int = EXAMPLE_TIME, include_pdf: bool = False) -> Path:
    """The signed packet of the release in ``directory``, assessed at ``at``, written to ``out``."""
    with epoch(at):
        return write_directory(packet_files(gate(directory), keys.signer(), include_pdf=include_pdf), out)
