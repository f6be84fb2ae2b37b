"""The subject handed to static predicates: the typed inputs of one release.

Predicates ask for the part they need with ``need_*``; a missing part raises
:class:`CheckError`, so the control reports ``error`` (fail closed) and names the option
that would have provided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compliance.errors import CheckError
from compliance.models.subject import Closure, ConfigFacts, FlakeLock, InputRef, KernelConfig, Sbom
from compliance.models.vulns import VulnerabilityData


@dataclass
class Subject:
    """The typed inputs of one release, each optional: a predicate asks for what it needs."""
    closure: Closure | None = None
    sbom: Sbom | None = None
    facts: ConfigFacts | None = None
    flake_lock: FlakeLock | None = None
    kernel_config: KernelConfig | None = None
    vulnerabilities: VulnerabilityData | None = None
    inputs: list[InputRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commit: str | None = None

    def need_closure(self) -> Closure:
        if self.closure is None:
            raise CheckError("needs the closure (--closure)")
        return self.closure

    def need_sbom(self) -> Sbom:
        if self.sbom is None:
            raise CheckError("needs an SBOM (--sbom)")
        return self.sbom

    def need_facts(self) -> ConfigFacts:
        if self.facts is None:
            raise CheckError("needs NixOS configuration facts (--facts, or --flake/--nix-file to evaluate them)")
        return self.facts

    def need_vulnerabilities(self) -> VulnerabilityData:
        if self.vulnerabilities is None:
            raise CheckError("needs vulnerability reports (--vulns)")
        return self.vulnerabilities

    def need_flake_lock(self) -> FlakeLock:
        if self.flake_lock is None:
            raise CheckError("needs the flake.lock (--flake-lock)")
        return self.flake_lock
