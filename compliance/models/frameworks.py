"""Framework clause catalogs: every clause of a framework, automatable or not, so that
coverage can be reported honestly (including the clauses no control covers)."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field

from .common import Strict


class FrameworkId(StrEnum):
    NIS2 = "nis2"
    DORA = "dora"
    ISO27001 = "iso27001"
    ANSSI = "anssi"


class AnssiLevel(StrEnum):
    MINIMAL = "minimal"
    INTERMEDIARY = "intermediary"
    ENHANCED = "enhanced"
    HIGH = "high"


class Clause(Strict):
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    source: str | None = None  # legal instrument: "Directive (EU) 2022/2555", "CIR (EU) 2024/2690"
    part: str | None = None  # enclosing section, chapter or theme, for grouping in reports
    summary: str | None = None
    level: AnssiLevel | None = None  # ANSSI BP-028 only
    machine_checkable: bool | None = None


class Framework(Strict):
    id: FrameworkId
    title: str
    version: str
    sources: list[str] = []
    clauses: list[Clause]

    def clause_ids(self) -> set[str]:
        return {c.id for c in self.clauses}

    def resolve(self, ref: str) -> str | None:
        """The catalog clause a reference falls under: ``CIR 6.7.2(c)`` → ``CIR 6.7``.

        Points below the catalog's granularity are cited for precision; they count towards
        the enclosing clause. Returns None when nothing encloses the reference.
        """
        ids = self.clause_ids()
        candidate = ref.strip()
        while candidate:
            if candidate in ids:
                return candidate
            shorter = _parent(candidate)
            if shorter == candidate:
                return None
            candidate = shorter
        return None


_TRAILING_POINT = re.compile(r"(\([^()]*\)|\.[^.()]+)$")


def _parent(ref: str) -> str:
    match = _TRAILING_POINT.search(ref)
    if not match or match.start() == 0:
        return ref
    return ref[: match.start()]
