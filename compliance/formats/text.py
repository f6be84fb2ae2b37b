"""A readable table for a terminal or a CI log."""

from __future__ import annotations

import shutil
import textwrap

from compliance.assess.verdict_reason import explain
from compliance.formats import register
from compliance.models.common import Status
from compliance.models.results import GateReport
from compliance.util.clock import isoformat

# Without a terminal (a CI log, a file) lines wrap at this width; COLUMNS overrides it.
DEFAULT_WIDTH = 100
MIN_WIDTH = 60
_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WAIVED: 2, Status.MANUAL: 3, Status.PASS: 4, Status.NOT_APPLICABLE: 5}


def line_width() -> int:
    """The terminal's width (or ``COLUMNS``), else :data:`DEFAULT_WIDTH`."""
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def _wrap(text: str, first: str, rest: str, width: int) -> list[str]:
    """``text`` whole, wrapped to ``width``: the first line after ``first``, the others
    after ``rest``. Never cut: a message is the reason an auditor reads."""
    body = " ".join(text.split())
    lines = textwrap.wrap(body, width=max(20, width), initial_indent=first, subsequent_indent=rest,
                          break_long_words=False, break_on_hyphens=False)
    return lines or [first.rstrip()]


@register("text", ".txt")
def render_text(report: GateReport) -> bytes:
    """The text table, wrapped to the terminal (see :func:`line_width`)."""
    return render_text_width(report, line_width())


def render_text_width(report: GateReport, width: int) -> bytes:
    a, d = report.assessment, report.decision
    subject = a.subject.store_path or a.subject.host or a.subject.name or "?"
    lines = [
        f"Subject:  {subject}",
        f"Profiles: {', '.join(a.profiles) or '(all controls)'}",
        f"Time:     {isoformat(a.created)}   Assessment: {a.id}",
        *(f"Note:     {note}" for note in a.notes),
        "",
    ]
    rows = sorted(a.results, key=lambda r: (_ORDER[r.status], -r.severity.rank, r.control_id))
    header = ("STATUS", "SEVERITY", "CONTROL", "TITLE / MESSAGE")
    widths = (14, 8, max([7, *(len(r.control_id) for r in rows)]))
    lines.append(f"{header[0]:<{widths[0]}} {header[1]:<{widths[1]}} {header[2]:<{widths[2]}} {header[3]}")
    pad = " " * (sum(widths) + 3)
    for r in rows:
        head = f"{r.status.value.upper():<{widths[0]}} {r.severity.value:<{widths[1]}} {r.control_id:<{widths[2]}} "
        lines += _wrap(r.title, head, pad, width)
        if r.status not in (Status.PASS, Status.NOT_APPLICABLE) or r.notes:
            lines += _wrap(r.message, pad, pad, width)
            for note in r.notes:
                lines += _wrap(note, f"{pad}note: ", f"{pad}      ", width)
    counts = d.counts.by_status
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Status if counts.get(s))
    lines += ["", f"{d.counts.total} controls: {summary}"]
    if d.passed:
        lines.append("GATE: PASS")
    else:
        lines.append(f"GATE: FAIL ({len(d.blocking)} blocking)")
        for reason in d.blocking:
            who = f"{reason.control_id} ({reason.severity.value if reason.severity else ''} {reason.status.value if reason.status else ''}): " if reason.control_id else ""
            lines += _wrap(f"{who}{reason.message}", "  - ", "    ", width)
    applied = report.policy
    lines += _wrap(applied.explanation if applied else explain(d, None), "Why:    ", "        ", width)
    if applied is not None:
        lines += _wrap(f"{applied.source} ({applied.digest})", "Policy: ", "        ", width)
    return ("\n".join(lines) + "\n").encode("utf-8")
