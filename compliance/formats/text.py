"""A readable table for a terminal or a CI log."""

from __future__ import annotations

from compliance.assess.verdict_reason import explain
from compliance.formats import register
from compliance.models.common import Status
from compliance.models.results import GateReport
from compliance.util.clock import isoformat

MESSAGE_WIDTH = 96
_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WAIVED: 2, Status.MANUAL: 3, Status.PASS: 4, Status.NOT_APPLICABLE: 5}


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@register("text", ".txt")
def render_text(report: GateReport) -> bytes:
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
    for r in rows:
        lines.append(f"{r.status.value.upper():<{widths[0]}} {r.severity.value:<{widths[1]}} {r.control_id:<{widths[2]}} {_clip(r.title, MESSAGE_WIDTH)}")
        if r.status not in (Status.PASS, Status.NOT_APPLICABLE) or r.notes:
            pad = " " * (sum(widths) + 3)
            lines.append(f"{pad}{_clip(r.message, MESSAGE_WIDTH)}")
            for note in r.notes:
                lines.append(f"{pad}note: {_clip(note, MESSAGE_WIDTH - 6)}")
    counts = d.counts.by_status
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Status if counts.get(s))
    lines += ["", f"{d.counts.total} controls: {summary}"]
    if d.passed:
        lines.append("GATE: PASS")
    else:
        lines.append(f"GATE: FAIL ({len(d.blocking)} blocking)")
        for reason in d.blocking:
            who = f"{reason.control_id} ({reason.severity.value if reason.severity else ''} {reason.status.value if reason.status else ''}): " if reason.control_id else ""
            lines.append(f"  - {who}{_clip(reason.message, MESSAGE_WIDTH)}")
    applied = report.policy
    lines.append(f"Why:    {applied.explanation if applied else explain(d, None)}")
    if applied is not None:
        lines.append(f"Policy: {applied.source} ({applied.digest})")
    return ("\n".join(lines) + "\n").encode("utf-8")
