"""Writers of evidence over time: a diff (text, JSON, Markdown for a pull-request comment)
and the release log (text, JSON, Markdown).

Deterministic like every writer: the same document gives the same bytes. Long lists (the
store paths of a large closure) are cut in text and Markdown with a count of what is left
out; the JSON form always carries everything.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from compliance.models.evidence_history import EvidenceDiff, EvidenceLog
from compliance.util.change_lines import MAX_LISTED, cut_lines, diff_lines, ref_text


def _verification(diff: EvidenceDiff) -> str:
    sides = [(label, ref) for label, ref in (("old", diff.old), ("new", diff.new))]
    unverified = [label for label, ref in sides if not ref.verified]
    if unverified:
        return f"NOT VERIFIED ({' and '.join(unverified)}: --no-verify): nothing vouches for these results"
    keys = sorted({ref.key_fingerprint or "?" for _, ref in sides})
    return f"both verified (key {', '.join(keys)})"


def render_diff_text(diff: EvidenceDiff) -> bytes:
    """The diff for a terminal: each section's lines, then the verdict (NO CHANGE, CHANGED, REGRESSION)."""
    what = "probe report" if diff.kind.value == "probe-report" else "packet"
    out = [f"old {what}: {ref_text(diff.old)}", f"new {what}: {ref_text(diff.new)}", f"signatures: {_verification(diff)}"]
    for title, lines in diff_lines(diff).items():
        out += ["", f"{title}:", *cut_lines(lines)]
    for note in diff.notes:
        out.append(f"note: {note}")
    out.append("")
    if diff.empty:
        out.append("NO CHANGE")
    elif diff.regression:
        out += [f"REGRESSION: {len(diff.regressions)}", *cut_lines(diff.regressions)]
    else:
        out.append("CHANGED, no regression")
    return ("\n".join(out) + "\n").encode("utf-8")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render_diff_markdown(diff: EvidenceDiff) -> bytes:
    """The diff as a pull-request comment: regressions first, long sections folded."""
    what = "probe report" if diff.kind.value == "probe-report" else "release"
    if diff.empty:
        verdict = "no change"
    elif diff.regression:
        verdict = f"**regression** ({len(diff.regressions)})"
    else:
        verdict = "changed, no regression"
    out = [
        f"### Evidence diff: {verdict}",
        "",
        f"- old {what}: `{diff.old.id}` ({diff.old.created.isoformat()}" + (f", {diff.old.verdict}" if diff.old.verdict else "") + ")",
        f"- new {what}: `{diff.new.id}` ({diff.new.created.isoformat()}" + (f", {diff.new.verdict}" if diff.new.verdict else "") + ")",
        f"- signatures: {_verification(diff)}",
    ]
    if diff.regressions:
        out += ["", "#### Regressions", "", *(f"- {_md(line)}" for line in diff.regressions[:MAX_LISTED])]
        if len(diff.regressions) > MAX_LISTED:
            out.append(f"- … and {len(diff.regressions) - MAX_LISTED} more")
    sections = diff_lines(diff)
    for title, lines in sections.items():
        long = title.startswith("Closure") or title in ("Observed values", "Host observations") or len(lines) > 10
        body = [f"- {_md(line)}" for line in lines[:MAX_LISTED]]
        if len(lines) > MAX_LISTED:
            body.append(f"- … and {len(lines) - MAX_LISTED} more (the JSON form lists every one)")
        if long:
            out += ["", f"<details><summary>{_md(title)}: {len(lines)}</summary>", "", *body, "", "</details>"]
        else:
            out += ["", f"#### {_md(title)}", "", *body]
    if diff.notes:
        out += ["", *(f"> {_md(note)}" for note in diff.notes)]
    return ("\n".join(out) + "\n").encode("utf-8")


def render_json(document: EvidenceDiff | EvidenceLog) -> bytes:
    """The document as JSON (its published schema in evidence/), keys sorted."""
    return orjson.dumps(document.to_jsonable(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def _standing_text(counts: dict[str, int]) -> str:
    return " ".join(f"{state}={n}" for state, n in sorted(counts.items()))


def log_rows(log: EvidenceLog) -> list[list[str]]:
    """Header, then one row per release, for the table writers."""
    frameworks = sorted({fw.framework for entry in log.releases for fw in entry.clauses})
    header = ["created", "packet", "verdict", "failing", "waived", "blocking vulns", *frameworks]
    rows = [header]
    for entry in log.releases:
        standing = {fw.framework: _standing_text(fw.counts) for fw in entry.clauses}
        rows.append(
            [
                entry.created.isoformat(),
                entry.packet_id[:8] + ("" if entry.verified else " (UNVERIFIED)"),
                entry.verdict,
                ", ".join(entry.failing) or "-",
                ", ".join(entry.waived) or "-",
                ", ".join(entry.blocking_vulnerabilities) or "-",
                *(standing.get(fw, "-") for fw in frameworks),
            ]
        )
    return rows


def _table(rows: Iterable[list[str]]) -> list[str]:
    rows = list(rows)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def render_log_text(log: EvidenceLog) -> bytes:
    """The log as an aligned text table, one row per release."""
    return ("\n".join(_table(log_rows(log))) + "\n").encode("utf-8")


def render_log_markdown(log: EvidenceLog) -> bytes:
    """The log as a Markdown table."""
    rows = log_rows(log)
    out = ["| " + " | ".join(_md(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows[1:]]
    return ("\n".join(out) + "\n").encode("utf-8")
