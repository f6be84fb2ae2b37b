"""Controls and profiles as they are written under ``controls/``."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator

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


class Scope(StrEnum):
    """How much of a clause a citation's checks evidence."""

    FULL = "full"  # the checks test everything the clause asks of a host or a release
    PARTIAL = "partial"  # the checks test a part only; the sentence says which part


ALL_CHECKS = "all"
ATTESTATION = "attestation"


class Citation(Strict):
    """One claim of a control: these clauses of one framework are evidenced, to this
    ``scope``, by these checks of the control (``"all"``: every check; ``"attestation"``:
    a control without checks, whose evidence is a signed attestation). ``evidences`` is
    the one sentence an auditor reads: what the checks show of the clauses, and for a
    partial scope what they leave unchecked."""

    framework: FrameworkId
    clauses: list[str] = Field(min_length=1)
    checks: list[str] | Literal["all", "attestation"]
    scope: Scope
    evidences: str = Field(min_length=1)

    @field_validator("evidences")
    @classmethod
    def _one_sentence(cls, value: str) -> str:
        text = " ".join(value.split())
        if len(text) < 20 or not text.endswith("."):
            raise ValueError("one sentence (ending with a period) saying what the checks show of the clauses")
        return text

    def functions(self, control: Control) -> list[str]:
        """The check functions of ``control`` this citation names (none for an attestation)."""
        if self.checks == ATTESTATION:
            return []
        if self.checks == ALL_CHECKS:
            return list(dict.fromkeys(c.function for c in control.checks))
        return list(self.checks)


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
    cites: list[Citation] = []
    params: dict[str, Any] = {}
    checks: list[Check] = []
    remediation: Remediation | None = None
    tags: list[str] = []

    def checks_of(self, kind: CheckKind) -> list[Check]:
        return [c for c in self.checks if c.kind is kind]

    def resolved_cites(self) -> list[Citation]:
        """The citations with ``"all"`` spelt out as check names, as the results record them,
        so that the signed results say which checks evidence each clause."""
        return [c if c.checks == ATTESTATION else c.model_copy(update={"checks": c.functions(self)}) for c in self.cites]

    @property
    def clauses(self) -> dict[FrameworkId, list[str]]:
        """Framework → the references the control cites, in citation order."""
        return clauses_of(self.cites)


def clauses_of(cites: list[Citation]) -> dict[FrameworkId, list[str]]:
    """Framework → the references ``cites`` name, each once, in order."""
    out: dict[FrameworkId, list[str]] = {}
    for cite in cites:
        refs = out.setdefault(cite.framework, [])
        refs.extend(ref for ref in cite.clauses if ref not in refs)
    return out


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
    # Frameworks whose own parameters this profile holds (for ANSSI: for the recommendations
    # of the levels it selects by): a clause is satisfied only under values at least as strict.
    reference_for: list[FrameworkId] = []
    select: ProfileSelection = ProfileSelection()
    params: dict[str, dict[str, Any]] = {}  # control id → parameter overrides
