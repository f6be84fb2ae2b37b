"""The report's "Changes since the previous release" section, from an evidence diff.

It prints the same lines as ``compliance evidence diff`` (:mod:`compliance.util.change_lines`),
each section cut to a readable length with a count of the rest. The previous packet is named
by its id, never by the path it was read from, so that the gate building a packet and
``evidence report --previous`` rendering it again give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.models.evidence_history import EvidenceDiff
from compliance.util.change_lines import MAX_LISTED, diff_lines
from compliance.util.clock import isoformat


@dataclass(frozen=True)
class ChangeSection:
    """One titled list of changes, cut to a readable length."""

    title: str
    lines: tuple[str, ...]
    more: int  # lines left out


@dataclass(frozen=True)
class ChangesView:
    """What the report prints of the changes since the previous release."""

    previous_id: str
    previous_created: str
    previous_verdict: str | None
    verified: bool
    empty: bool
    regressions: tuple[str, ...]
    sections: tuple[ChangeSection, ...]
    notes: tuple[str, ...]


def changes_view(diff: EvidenceDiff) -> ChangesView:
    """The section's view of ``diff``."""
    sections = tuple(
        ChangeSection(title, tuple(lines[:MAX_LISTED]), max(0, len(lines) - MAX_LISTED)) for title, lines in diff_lines(diff).items()
    )
    return ChangesView(
        previous_id=diff.old.id,
        previous_created=isoformat(diff.old.created),
        previous_verdict=diff.old.verdict,
        verified=diff.old.verified,
        empty=diff.empty,
        regressions=tuple(diff.regressions),
        sections=sections,
        notes=tuple(note for note in diff.notes if diff.old.source not in note),
    )
