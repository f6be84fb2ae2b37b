"""The human verdict every run prints on standard error, whatever its outputs.

A CI log must say why a job failed even when every format went to a file
(``-o junit=gate.xml -o sarif=gate.sarif``): the verdict, the counts, what blocks and where
the outputs went. Standard output stays for the format the user selected. rich does the
terminal work: colours only on a terminal, ``NO_COLOR`` respected, long lines wrapped to the
terminal's width (80 columns, or ``COLUMNS``, in a log), never cut.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

from compliance.assess.verdict_reason import explain
from compliance.models.common import Status
from compliance.models.policy import Policy
from compliance.models.results import Assessment, GateReport, Reason

# Blocking items listed without --verbose; the rest is counted.
MAX_ITEMS = 10
STYLES = {"good": "bold green", "bad": "bold red", "hold": "bold yellow"}


def stderr_console() -> Console:
    """A console on standard error: rich decides colour (terminal, NO_COLOR, FORCE_COLOR)
    and width (the terminal's, or COLUMNS)."""
    return Console(stderr=True, highlight=False, emoji=False)


@dataclass
class Verdict:
    """What one run says about itself: a headline, why, the items that decided it,
    where the outputs went, and details for ``--verbose``."""

    command: str
    headline: str
    tone: str  # "good" | "bad" | "hold"
    summary: str
    why: str = ""
    items_title: str = "blocking"
    items: list[str] = field(default_factory=list)
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (what, where)
    details: list[tuple[str, list[str]]] = field(default_factory=list)  # (title, lines), --verbose only


def print_verdict(verdict: Verdict, *, quiet: bool = False, verbose: bool = False, console: Console | None = None) -> None:
    """Print ``verdict`` on standard error (nothing with ``quiet``)."""
    if quiet:
        return
    out = console or stderr_console()
    head = Text(f"{verdict.command}: ")
    head.append(verdict.headline, style=STYLES.get(verdict.tone, "bold"))
    if verdict.summary:
        head.append(f" · {verdict.summary}")
    out.print(head)
    if verdict.why:
        out.print(Text(verdict.why), style="dim" if verdict.tone == "good" else "")
    shown = verdict.items if verbose else verdict.items[:MAX_ITEMS]
    if shown:
        out.print(Text(f"{verdict.items_title}:"), style="bold")
        for item in shown:
            out.print(Text(f"  - {item}"))
        if len(verdict.items) > len(shown):
            out.print(Text(f"  … and {len(verdict.items) - len(shown)} more (--verbose lists them all)"))
    if verdict.outputs:
        out.print(Text("written: " + ", ".join(f"{what} → {where}" for what, where in verdict.outputs)))
    if verbose:
        for title, lines in verdict.details:
            if lines:
                out.print(Text(f"{title}:"), style="bold")
                for line in lines:
                    out.print(Text(f"  {line}"))


def _reason_line(reason: Reason) -> str:
    if not reason.control_id:
        return reason.message
    what = " ".join(x for x in (reason.severity.value if reason.severity else "", reason.status.value if reason.status else "") if x)
    return f"{reason.control_id} ({what}): {' '.join(reason.message.split())}"


def status_summary(assessment: Assessment) -> str:
    counts = assessment.counts()
    parts = ", ".join(f"{counts.by_status[s]} {s.value.replace('_', ' ')}" for s in Status if counts.by_status.get(s))
    return f"{counts.total} controls: {parts}" if parts else f"{counts.total} controls"


def outputs_written(to_files: dict[str, list[str]], extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(format, path) of every file a run wrote, in the order given."""
    return [(fmt, path) for fmt, paths in to_files.items() for path in paths] + list(extra)


def gate_verdict(report: GateReport, policy: Policy | None, outputs: list[tuple[str, str]]) -> Verdict:
    """The gate's verdict: PASS/FAIL, the counts, why, what blocks, where the outputs went."""
    d, a = report.decision, report.assessment
    subject = a.subject.store_path or a.subject.host or a.subject.name or "?"
    return Verdict(
        command="compliance gate",
        headline="PASS" if d.passed else "FAIL",
        tone="good" if d.passed else "bad",
        summary=status_summary(a),
        why=explain(d, policy),
        items=[_reason_line(r) for r in d.blocking],
        outputs=outputs,
        details=[
            ("subject", [subject, *(f"profile {p}" for p in a.profiles)]),
            ("not blocking", [_reason_line(r) for r in d.non_blocking]),
            ("inputs", [f"{i.kind}: {i.path}" for i in a.inputs]),
            ("notes", list(a.notes)),
        ],
    )


def probe_verdict(assessment: Assessment, host: str, outputs: list[tuple[str, str]]) -> Verdict:
    """A probe writes a signed report whatever its results (the control plane judges it);
    the verdict says what the report holds, failures first."""
    failing = [r for r in assessment.results if r.status in (Status.FAIL, Status.ERROR)]
    failing.sort(key=lambda r: (-r.severity.rank, r.control_id))
    return Verdict(
        command="compliance probe",
        headline="REPORT WRITTEN",
        tone="hold" if failing else "good",
        summary=f"{host}: {status_summary(assessment)}",
        why="the control plane judges the report (compliance promote); failures and errors below" if failing else "",
        items_title="failures and errors",
        items=[f"{r.control_id} ({r.severity.value} {r.status.value}): {' '.join(r.message.split())}" for r in failing],
        outputs=outputs,
        details=[("all results", [f"{r.control_id} {r.status.value}: {' '.join(r.message.split())}" for r in sorted(assessment.results, key=lambda r: r.control_id)])],
    )


def _quiet_update(text: str) -> None:
    """What progress updates do off a terminal: nothing."""


@contextmanager
def progress(description: str, *, console: Console | None = None) -> Iterator[Callable[[str], None]]:
    """A spinner with ``description`` while long work runs, on a terminal only: never in a
    log (a CI log or a redirected standard error gets nothing). Yields a function that
    replaces the description ("probing web-1: HK-01, 3 of 38")."""
    out = console or stderr_console()
    if not out.is_terminal or os.environ.get("COMPLIANCE_NO_PROGRESS"):
        yield _quiet_update
        return
    with out.status(Text(description), spinner="dots") as status:
        yield lambda text: status.update(Text(text))
