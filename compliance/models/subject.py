"""The subject of an assessment: what the static predicates judge.

A release is a Nix closure (store paths and their references), an SBOM that claims to
describe it, the NixOS configuration facts it was built from, and optional extras (the
flake lock, a kernel configuration). Each input has one typed model, whatever file format
it came from.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from compliance.models.common import Strict

NIX_STORE = "/nix/store"


class StorePathInfo(Strict):
    """One store path of a closure as Nix describes it: name, version, NAR hash and size, references, deriver, signatures."""
    path: str
    name: str  # the package name, parsed the way Nix does (``DrvName``)
    version: str | None = None
    nar_hash: str | None = None  # "sha256:<nix32>" or SRI "sha256-<b64>", as Nix printed it
    nar_size: int | None = None
    references: tuple[str, ...] = ()
    deriver: str | None = None
    signatures: tuple[str, ...] = ()
    ca: str | None = None

    @property
    def basename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class Closure(Strict):
    """A closure: every store path with its references, and the top-level path(s)."""

    source: str
    roots: tuple[str, ...]
    paths: dict[str, StorePathInfo]
    store_dir: str = NIX_STORE
    # Where store paths can be read on this machine (a chroot store keeps /nix/store/x
    # under <root>/nix/store/x). None: only metadata is known (path-info JSON, listing).
    real_store_dir: Path | None = None

    def real_path(self, store_path: str) -> Path | None:
        if self.real_store_dir is None or not store_path.startswith(self.store_dir + "/"):
            return None
        return self.real_store_dir / store_path[len(self.store_dir) + 1 :]


class Component(Strict):
    """One SBOM component, whatever the SBOM format."""

    ref: str  # bom-ref / SPDXID
    name: str
    version: str | None = None
    purl: str | None = None
    cpe: str | None = None
    licenses: tuple[str, ...] = ()  # SPDX ids or expressions; free-text names as given
    hashes: dict[str, str] = {}  # normalised algorithm ("sha256") → lower-case hex
    store_path: str | None = None
    depends_on: tuple[str, ...] = ()
    type: str | None = None


class SbomConformance(Strict):
    """How an SBOM stands against its own specification: the official schema of its
    declared version (``schema_file`` is the file used, None when none is shipped for that
    version or the encoding has none) and the NTIA minimum elements it lacks."""

    schema_file: str | None = None
    violations: tuple[str, ...] = ()  # the first ones, "<JSON pointer>: <message>"
    violation_count: int = 0
    ntia_missing: tuple[str, ...] = ()


class Sbom(Strict):
    """An SBOM read into one component model, whatever its format and encoding."""
    source: str
    format: str  # "cyclonedx" | "spdx"
    spec_version: str
    encoding: str  # "json" | "tag-value"
    serial: str | None = None
    created: datetime | None = None
    described: tuple[str, ...] = ()  # refs of the components the document describes
    components: tuple[Component, ...]
    has_dependency_graph: bool = False
    conformance: SbomConformance | None = None  # None: not judged (an SBOM built in memory)


class ConfigFacts(Strict):
    """NixOS option values, as a nested tree mirroring ``config``."""

    source: str
    options: dict[str, Any]
    origin: dict[str, Any] = {}  # how the facts were obtained (flake ref, file, nix version)


class FlakeInput(Strict):
    """One locked input of a flake: its type, revision and when it was last modified."""
    name: str
    type: str | None = None
    last_modified: datetime | None = None
    rev: str | None = None
    nar_hash: str | None = None
    locked: dict[str, Any] = {}
    original: dict[str, Any] = {}


class FlakeLock(Strict):
    """A flake.lock: its nodes and which of them the flake itself takes as inputs."""
    source: str
    root: str = "root"  # the node of the flake itself
    root_inputs: dict[str, str]  # input name at the root → node name
    nodes: dict[str, FlakeInput]


class KernelConfig(Strict):
    """A kernel build configuration (.config): each CONFIG_ option and its value."""
    source: str
    options: dict[str, str] = Field(description="CONFIG_X → 'y' | 'm' | value; 'n' when '# CONFIG_X is not set'")


class InputRef(Strict):
    """An input file of an assessment, recorded by digest."""

    kind: str
    path: str
    sha256: str
    size: int
