"""A Markdown summary fit for a CI job summary ($GITHUB_STEP_SUMMARY, GitLab notes)."""

from __future__ import annotations

from compliance.assess.verdict_reason import explain
from compliance.formats import register
from compliance.models.common import Status
from compliance.models.results import ClauseStanding, ControlResult, GateReport
from compliance.util.clock import isoformat


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _row(r: ControlResult) -> str:
    return f"| {r.status.value} | {r.severity.value} | `{r.control_id}` | {_cell(r.title)} | {_cell(r.message)} |"


def _clause_sections(report: GateReport) -> list[str]:
    """Per framework: the count of each clause standing, and every clause with why."""
    rows = report.assessment.clause_standings or []
    out: list[str] = []
    for fw in dict.fromkeys(r.framework for r in rows):
        mine = [r for r in rows if r.framework is fw]
        counts = ", ".join(f"{n} {s.value}" for s in ClauseStanding if (n := sum(1 for r in mine if r.standing is s)))
        out += [
            f"### Clauses of {fw.value}: {counts}",
            "",
            f"<details><summary>Every clause of {fw.value} and why it stands so</summary>",
            "",
            "| clause | standing | controls (scope) | why |",
            "|---|---|---|---|",
        ]
        for r in mine:
            cited = ", ".join(dict.fromkeys(f"{c.control_id} ({c.scope.value})" for c in r.citations)) or "-"
            out.append(f"| `{r.clause}` | {r.standing.value} | {_cell(cited)} | {_cell(r.reason)} |")
        out += ["", "</details>", ""]
    return out


@register("markdown", ".md")
def render_markdown(report: GateReport) -> bytes:
    a, d = report.assessment, report.decision
    subject = a.subject.store_path or a.subject.host or a.subject.name or "?"
    verdict = "PASS" if d.passed else "FAIL"
    out = [
        f"## Compliance gate: {verdict}",
        "",
        f"**Subject:** `{subject}`  ",
        f"**Profiles:** {', '.join(a.profiles) or 'all controls'}  ",
        f"**Assessed:** {isoformat(a.created)} · assessment `{a.id}`",
        *(f"> {_cell(note)}" for note in a.notes),
        "",
        f"**Why:** {_cell(report.policy.explanation if report.policy else explain(d, None))}  ",
        *([f"**Policy:** `{_cell(report.policy.source)}` · `{report.policy.digest}`"] if report.policy else []),
        "",
        "| status | controls |",
        "|---|---:|",
    ]
    out += [f"| {s.value} | {d.counts.by_status[s]} |" for s in Status if d.counts.by_status.get(s)]
    out.append("")
    if d.blocking:
        out += ["### Blocking", "", "| status | severity | control | title | why |", "|---|---|---|---|---|"]
        by_id = {r.control_id: r for r in a.results}
        for reason in d.blocking:
            if reason.control_id and reason.control_id in by_id:
                out.append(_row(by_id[reason.control_id]))
            else:
                out.append(f"| | | | | {_cell(reason.message)} |")
        out.append("")
    out += _clause_sections(report)
    rows = sorted(a.results, key=lambda r: r.control_id)
    out += [
        "<details><summary>All results</summary>",
        "",
        "| status | severity | control | title | why |",
        "|---|---|---|---|---|",
        *(_row(r) for r in rows),
        "",
        "</details>",
        "",
    ]
    return "\n".join(out).encode("utf-8")
