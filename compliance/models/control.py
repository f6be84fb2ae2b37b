"""Controls and profiles as they are written under ``controls/``."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from compliance.models.common import Severity, Strict
from compliance.models.frameworks import AnssiLevel, FrameworkId

CONTROL_ID_PATTERN = r"^[A-Z][A-Z0-9]{1,5}-[0-9]{2,3}[a-z]?$"


class CheckKind(StrEnum):
    """When a check runs: statically over a release before deploy, or at runtime on a host."""
    STATIC = "static"  # a pure predicate over the subject (closure, SBOM, facts), before deploy
    RUNTIME = "runtime"  # a probe of a running host (or an offline root), after activation


class Check(Strict):
    """One check of a control: its kind and the registered function that performs it."""
    kind: CheckKind
    function: str = Field(min_length=1, description="registered predicate or probe name")
    description: str | None = None


class Remediation(Strict):
    """What to change: NixOS options with the value to set, and free text."""

    nixos: dict[str, Any] = {}
    text: str | None = None


class Control(Strict):
    """A control as written under controls/library/: what it requires, why, the clauses it cites, its parameters and checks."""
    id: str = Field(pattern=CONTROL_ID_PATTERN)
    title: str = Field(min_length=1)
    severity: Severity
    rationale: str = Field(min_length=1)
    clauses: dict[FrameworkId, list[str]] = {}
    params: dict[str, Any] = {}
    checks: list[Check] = []
    remediation: Remediation | None = None
    tags: list[str] = []

    def checks_of(self, kind: CheckKind) -> list[Check]:
        return [c for c in self.checks if c.kind is kind]


class ProfileSelection(Strict):
    """Which controls a profile turns on: by id, by tag, every control citing a framework,
    or every control citing an ANSSI BP-028 recommendation introduced at one of
    ``anssi_levels`` (a level profile names its own level and extends the one below, so
    that minimal ⊂ intermediary ⊂ enhanced ⊂ high holds by construction)."""

    controls: list[str] = []
    tags: list[str] = []
    frameworks: list[FrameworkId] = []
    anssi_levels: list[AnssiLevel] = []
    exclude: list[str] = []


class Profile(Strict):
    """A named selection of controls with parameter overrides (e.g. nis2-important, anssi-high)."""
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    description: str = ""
    frameworks: list[FrameworkId] = []  # frameworks the profile reports coverage for
    extends: list[str] = []
    select: ProfileSelection = ProfileSelection()
    params: dict[str, dict[str, Any]] = {}  # control id → parameter overrides
