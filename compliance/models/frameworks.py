"""Framework clause catalogs: every clause of a framework, automatable or not, so that
coverage can be reported honestly (including the clauses no control covers)."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field

from compliance.models.common import Strict


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
        the enclosing clause, but only when they are points this framework can have below
        it (:data:`FINER_POINTS`): ``A.8.8.42`` or ``R61.5`` is a mistyped id, not a finer
        citation of ``A.8.8`` or ``R61``. Returns None when nothing encloses the reference.
        """
        ids = self.clause_ids()
        ref = ref.strip()
        candidate = ref
        while candidate:
            if candidate in ids:
                return candidate if FINER_POINTS[self.id].fullmatch(ref[len(candidate):]) else None
            shorter = _parent(candidate)
            if shorter == candidate:
                return None
            candidate = shorter
        return None


_TRAILING_POINT = re.compile(r"(\([^()]*\)|\.[^.()]+)$")

# What the EU texts number below an article or an Annex section: a paragraph "(4)" (no
# catalogued article has more than 15), a point "(e)", a sub-point in roman numerals
# "(ii)", and an indent "(2)" below that (RTS 24(1)(b)(ii)(2)).
_PARAGRAPH = r"\((?:[1-9]|1[0-5])\)"
_POINTS = r"(?:\([a-z]\)(?:\((?:i{1,3}|iv|v|vi{1,3}|ix|x|xi{1,3}|xiv|xv)\)(?:\([1-9]\))?)?)?"
# The citation a framework allows after a catalogued clause id, the empty one included.
# ISO/IEC 27001 Annex A (A.N.N) and ANSSI BP-028 (RN) are catalogued at their finest: a
# citation is a catalogued id exactly. The NIS2 Implementing Regulation's Annex numbers a
# level below its sections (CIR 6.7 → CIR 6.7.2); DORA's catalog lists articles.
FINER_POINTS: dict[FrameworkId, re.Pattern[str]] = {
    FrameworkId.ISO27001: re.compile(""),
    FrameworkId.ANSSI: re.compile(""),
    FrameworkId.DORA: re.compile(rf"(?:{_PARAGRAPH})?{_POINTS}"),
    FrameworkId.NIS2: re.compile(rf"(?:\.[1-9][0-9]?)?(?:{_PARAGRAPH})?{_POINTS}"),
}


def _parent(ref: str) -> str:
    match = _TRAILING_POINT.search(ref)
    if not match or match.start() == 0:
        return ref
    return ref[: match.start()]
