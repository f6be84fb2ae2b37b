"""The changes of an evidence diff as lines of text, one per change, by section.

The text and Markdown writers and the report's "Changes since the previous release"
section print the same lines, so that a change reads the same wherever it is shown.
"""

from __future__ import annotations

import orjson

from compliance.models.evidence_history import ControlChangeKind, EvidenceDiff, EvidenceRef

MAX_LISTED = 50
MAX_VALUE_CHARS = 160

_CONTROL_LABELS = {
    ControlChangeKind.NEWLY_FAILING: "newly failing",
    ControlChangeKind.FIXED: "fixed",
    ControlChangeKind.NEWLY_WAIVED: "newly waived",
    ControlChangeKind.WAIVER_EXPIRED: "waiver expired",
    ControlChangeKind.WAIVER_REMOVED: "waiver removed",
    ControlChangeKind.STATUS_CHANGED: "status changed",
    ControlChangeKind.ADDED: "added",
    ControlChangeKind.REMOVED: "removed",
}


def value_text(value: object, absent: bool = False) -> str:
    """A value as compact JSON, cut to a readable length; ``absent`` when the key is missing."""
    if absent:
        return "(absent)"
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def control_label(kind: ControlChangeKind) -> str:
    """How a kind of control change reads in a line."""
    return _CONTROL_LABELS[kind]


def ref_text(ref: EvidenceRef) -> str:
    """One side of a diff in a line: source, id, time and verdict."""
    verdict = f", verdict {ref.verdict}" if ref.verdict else ""
    return f"{ref.source} ({ref.id}, {ref.created.isoformat()}{verdict})"


def cut_lines(lines: list[str], prefix: str = "  ") -> list[str]:
    """``lines`` indented and cut at MAX_LISTED, with a count of the rest."""
    shown = [prefix + line for line in lines[:MAX_LISTED]]
    if len(lines) > MAX_LISTED:
        shown.append(f"{prefix}… and {len(lines) - MAX_LISTED} more (the JSON form lists every one)")
    return shown


def diff_lines(diff: EvidenceDiff) -> dict[str, list[str]]:
    """Section title → one line per change, shared by the text and Markdown writers."""
    sections: dict[str, list[str]] = {}
    sections["Identity"] = [f"{c.name}: {value_text(c.old)} → {value_text(c.new)}" for c in diff.identity]
    sections["Controls"] = [
        f"{control_label(c.kind)}: {c.control_id} ({c.severity.value}) "
        f"{c.old_status.value if c.old_status else 'not assessed'} → {c.new_status.value if c.new_status else 'not assessed'}"
        + (f", waiver {c.waiver}" if c.waiver else "")
        + f": {c.message}"
        for c in diff.controls
    ]
    sections["Observed values"] = [
        f"{c.control_id} {c.check} {'/'.join(c.path) or '(all)'}: {value_text(c.old, c.absent_before)} → {value_text(c.new, c.absent_after)}"
        for c in diff.observed
    ]
    sections["Parameters"] = [
        f"{c.control_id} {c.param}: {value_text(c.old)} ({c.old_source or 'unset'}) → {value_text(c.new)} ({c.new_source or 'unset'})"
        for c in diff.params
    ]
    sections["NixOS options"] = [
        f"{c.option}: {value_text(c.old, c.absent_before)} → {value_text(c.new, c.absent_after)}" for c in diff.options
    ]
    closure = diff.closure
    if closure is not None and closure.compared:
        lines = [
            f"{p.kind.value} {p.name}: {', '.join(p.old_versions) or '-'} → {', '.join(p.new_versions) or '-'}" for p in closure.packages
        ]
        if closure.kernel is not None:
            lines.append(f"kernel: {closure.kernel.old or 'none'} → {closure.kernel.new or 'none'}")
        lines += [f"+ {p}" for p in closure.added] + [f"- {p}" for p in closure.removed]
        sections[f"Closure ({closure.old_paths} → {closure.new_paths} store paths, +{len(closure.added)} -{len(closure.removed)})"] = lines
    sections["Vulnerabilities"] = [
        f"{v.kind.value.replace('_', ' ')}: {v.id} in {v.component} ({v.old_verdict or 'not reported'} → {v.new_verdict or 'not reported'}"
        + (f", {v.severity}" if v.severity else "")
        + (f", CVSS {v.cvss}" if v.cvss is not None else "")
        + ")"
        for v in diff.vulnerabilities
    ]
    sections["Clause standing"] = [f"{c.framework} {c.clause}: {c.old or 'not listed'} → {c.new or 'not listed'}" for c in diff.clauses]
    sections["Host observations"] = [
        f"{o.kind} {o.target}: {o.old_status or 'absent'} {(o.old_sha256 or '')[:12]} → {o.new_status or 'absent'} {(o.new_sha256 or '')[:12]}"
        for o in diff.observations
    ]
    return {title: lines for title, lines in sections.items() if lines}


