"""What an inventory run shows: a progress bar on a terminal, then one line per host."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from compliance.models.common import Status
from compliance.runs.fleet_probe import FleetJob, HostRun

SHOWN = (Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE, Status.MANUAL, Status.WAIVED)
LABELS = {Status.NOT_APPLICABLE: "n/a"}
PIPE_WIDTH = 200  # into a file or a pipe: one line per host, not wrapped at 80 columns


class FleetProgress:
    """A bar of hosts done, with the hosts in flight, on standard error (only on a terminal)."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self._lock = threading.Lock()
        self._running: list[str] = []
        self._progress = Progress(TextColumn("probing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  TextColumn("{task.description}"), console=Console(stderr=True), transient=True,
                                  disable=not enabled)
        self._task = self._progress.add_task("", total=total)

    def __enter__(self) -> FleetProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def _describe(self) -> str:
        shown = ", ".join(self._running[:4])
        return shown + (f" +{len(self._running) - 4}" if len(self._running) > 4 else "")

    def started(self, job: FleetJob) -> None:
        with self._lock:
            self._running.append(job.host.name)
            self._progress.update(self._task, description=self._describe())

    def done(self, run: HostRun) -> None:
        with self._lock:
            if run.name in self._running:
                self._running.remove(run.name)
            self._progress.update(self._task, advance=1, description=self._describe())


def render_summary(runs: Sequence[HostRun], console: Console | None = None) -> None:
    """host, transport, state, verdict counts, time, error: one row per host, in order."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=PIPE_WIDTH)
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("host", "transport", "state"):
        table.add_column(column, no_wrap=True)
    for status in SHOWN:
        table.add_column(LABELS.get(status, status.value), justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("error", overflow="fold")
    for run in runs:
        counts = [str(run.counts.get(s, 0)) if run.ok else "-" for s in SHOWN]
        table.add_row(run.name, run.transport, run.state, *counts, f"{run.seconds:.1f}s", run.error or "")
    console.print(table)
    written = sum(1 for r in runs if r.ok)
    console.print(f"{written}/{len(runs)} hosts reported")
