"""Framework clause catalogs: every clause of a framework, automatable or not, so that
coverage can be reported honestly (including the clauses no control covers)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import Field, PrivateAttr

from compliance.models.common import Strict


class FrameworkId(StrEnum):
    """The four frameworks the catalog cites."""
    NIS2 = "nis2"
    DORA = "dora"
    ISO27001 = "iso27001"
    ANSSI = "anssi"


class AnssiLevel(StrEnum):
    """ANSSI BP-028's hardening levels; each recommendation belongs to the lowest level it applies at."""
    MINIMAL = "minimal"
    INTERMEDIARY = "intermediary"
    ENHANCED = "enhanced"
    HIGH = "high"


class Clause(Strict):
    """One clause of a framework's catalog, with the points below it that a citation may name."""
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    source: str | None = None  # legal instrument: "Directive (EU) 2022/2555", "CIR (EU) 2024/2690"
    part: str | None = None  # enclosing section, chapter or theme, for grouping in reports
    summary: str | None = None
    level: AnssiLevel | None = None  # ANSSI BP-028 only
    machine_checkable: bool | None = None
    # Every citable point below the clause, as full ids in the text's own numbering
    # ("Art.9(4)(e)", "CIR 6.7.2(c)", "RTS 24(1)(b)(ii)(2)"). A citation is the clause id
    # or one of these: a point the text does not have is a mistyped or invented citation.
    points: list[str] = []

    def is_below(self, ref: str) -> bool:
        """Whether ``ref`` has the form of a point of this clause (its id, then a numbered level)."""
        return ref.startswith(self.id) and _BELOW.match(ref, len(self.id)) is not None


# A point continues its clause id with a numbered level: "(2)", "(e)", ".2" (CIR 6.7 → 6.7.2).
_BELOW = re.compile(r"\(|\.[0-9]")


class Framework(Strict):
    """A framework's clauses, each with the points a control or attestation may cite."""

    id: FrameworkId
    title: str
    version: str
    sources: list[str] = []
    clauses: list[Clause]
    _index: dict[str, str] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        # The catalog loader refuses a clause or a point listed twice; the first one wins here.
        index: dict[str, str] = {}
        for clause in self.clauses:
            for ref in (clause.id, *clause.points):
                index.setdefault(ref, clause.id)
        self._index = index

    def clause_ids(self) -> set[str]:
        return {c.id for c in self.clauses}

    def resolve(self, ref: str) -> str | None:
        """The catalog clause a citation falls under: ``CIR 6.7.2(c)`` → ``CIR 6.7``.

        A citation is a clause id or one of the points its clause lists: the catalog
        enumerates every point the texts number, so ``Art.21(2)(k)``, ``RTS 13(1)(z)``,
        ``A.8.8.42`` or ``R61.5`` is a citation of nothing, not a finer citation of its
        parent. Returns None for those. Surrounding blanks are ignored.
        """
        return self._index.get(ref.strip())

    def unknown_reason(self, ref: str) -> str:
        """Why ``ref`` is not a citation of this framework, in one phrase for an error line."""
        ref = ref.strip()
        for clause in sorted(self.clauses, key=lambda c: len(c.id), reverse=True):
            if clause.points and clause.is_below(ref):
                return f"unknown point {ref}: not one of the {len(clause.points)} points of {clause.id} in the clause list of {self.title}"
        return f"{ref!r} is not a clause of {self.title}"


class CrosswalkBasis(StrEnum):
    """What establishes a v1 → v2 pair: the same title, the entry's text moved, the rules moved."""

    TITLE = "title"
    ENTRY = "entry"
    RULES = "rules"


_ANSSI_ID = r"^R[1-9][0-9]?$"


class AnssiV1Mapping(Strict):
    """A BP-028 v1.2 recommendation and the v2 recommendations it became, with how that is known."""
    v1: str = Field(pattern=_ANSSI_ID)
    v1_title: str = Field(min_length=1)
    v2: list[str] = Field(min_length=1)
    basis: list[CrosswalkBasis] = Field(min_length=1)


class AnssiV1Unmapped(Strict):
    """A BP-028 v1.2 recommendation with no v2 counterpart that can be sourced, and why."""
    v1: str = Field(pattern=_ANSSI_ID)
    v1_title: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class AnssiCrosswalk(Strict):
    """ANSSI-BP-028 v1.2 ids (cited by OpenSCAP and older ComplianceAsCode content) to the
    v2.0 ids this catalog uses, so results of both can be compared recommendation by
    recommendation. A v1 id whose successor is not established is listed as unmapped."""

    v1_version: str
    v2_version: str
    mappings: list[AnssiV1Mapping]
    unmapped: list[AnssiV1Unmapped] = []

    def v2_of(self, v1: str) -> list[str] | None:
        """The v2 ids that continue ``v1``; None when v1 is unmapped or unknown."""
        return next((m.v2 for m in self.mappings if m.v1 == v1), None)

    def v1_of(self, v2: str) -> list[str]:
        """The v1 ids that ``v2`` continues (none for a recommendation new in v2.0)."""
        return [m.v1 for m in self.mappings if v2 in m.v2]
