"""Shared measurement helpers for the benchmarks: alternating runs, medians, verdicts.

A shared machine slows every run by a different amount. Comparing a command with its
floor stays meaningful when both run in the same benchmark, interleaved (A, B, A, B, …,
with the order flipped every round so that neither always runs after the other), and the
comparison is made on medians: load that hits one round hits both of its runs alike.
Every figure carries its median, minimum and maximum, and every target is printed with
its verdict, so that a noisy machine still gives a meaningful answer.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Byte-compiled modules as an installed package has them: a first run writes them.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Series:
    """The wall times (seconds) and peak RSS (MB) of one command over the rounds."""

    name: str
    walls: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        """Median CPU seconds (user + system of the process and its children): less
        inflated than wall time when the machine is shared."""
        return statistics.median(self.cpus) if self.cpus else 0.0

    def spread(self) -> str:
        """``median s (min–max)``, the form every table uses."""
        return f"{self.median:.3f} s ({min(self.walls):.3f}–{max(self.walls):.3f})"

    @property
    def peak_mb(self) -> float:
        return max(self.rss) if self.rss else 0.0


@dataclass(frozen=True)
class Command:
    """A whole process to time: argv, environment additions, accepted exit codes."""

    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    ok: tuple[int, ...] = (0,)
    cwd: str | None = None


Runnable = Command | Callable[[], object]


def run_process(command: Command) -> tuple[float, float, float]:
    """Wall seconds, peak RSS in MB and CPU seconds of one whole process.

    The peak RSS is GNU time's (``%M``): a child forked from this process would inherit
    its high-water mark. The CPU is user + system of every waited descendant
    (RUSAGE_CHILDREN before and after), so work handed to ``find`` or ``ssh`` counts."""
    with tempfile.NamedTemporaryFile(prefix="bench-rss-") as rss_file:
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *command.argv] if os.path.exists("/usr/bin/time") else list(command.argv)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              env={**ENV, **command.env}, cwd=command.cwd, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode not in command.ok:
            raise SystemExit(f"{' '.join(command.argv[:4])} … exited {proc.returncode}: {proc.stderr.decode('utf-8', 'replace')[-1500:]}")
        text = Path(rss_file.name).read_text().strip().splitlines()
        peak = int(text[-1]) / 1024 if text and text[-1].isdigit() else 0.0
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, peak, cpu


def run_one(runnable: Runnable) -> tuple[float, float, float]:
    if isinstance(runnable, Command):
        return run_process(runnable)
    start, cpu = time.perf_counter(), time.process_time()
    runnable()
    return time.perf_counter() - start, 0.0, time.process_time() - cpu


def alternate(runnables: Mapping[str, Runnable], runs: int, warmup: int = 1) -> dict[str, Series]:
    """Run every entry ``runs`` times, interleaved, after ``warmup`` untimed rounds.

    Round *i* runs the entries in order, round *i+1* in reverse order, so that no entry
    always follows the same other one (page cache, CPU frequency, a neighbour's burst).
    """
    names = list(runnables)
    for _ in range(warmup):
        for name in names:
            run_one(runnables[name])
    series = {name: Series(name) for name in names}
    for index in range(runs):
        for name in names if index % 2 == 0 else reversed(names):
            wall, rss, cpu = run_one(runnables[name])
            series[name].walls.append(wall)
            series[name].rss.append(rss)
            series[name].cpus.append(cpu)
    return series


def paired_ratios(a: Series, b: Series) -> list[float]:
    """Round by round ``a / b``: the two runs of a round shared the machine's load."""
    return [x / y for x, y in zip(a.walls, b.walls, strict=True)]


def paired_differences(a: Series, b: Series) -> list[float]:
    return [x - y for x, y in zip(a.walls, b.walls, strict=True)]


@dataclass
class Verdicts:
    """The targets of one benchmark, printed as they are judged; the exit code says whether all held."""

    lines: list[str] = field(default_factory=list)
    failed: int = 0

    def check(self, what: str, value: float, target: float, unit: str, detail: str = "") -> bool:
        """``value ≤ target``; ``unit`` is ``"×"`` for ratios, ``"s"`` or ``"MB"`` otherwise."""
        ok = value <= target
        self.failed += not ok
        fmt = (lambda v: f"{v:.2f}×") if unit == "×" else (lambda v: f"{v:.3f} s") if unit == "s" else (lambda v: f"{v:.0f} {unit}")
        extra = f" [{detail}]" if detail else ""
        line = f"{'PASS' if ok else 'FAIL'}  {what}: {fmt(value)} (target ≤ {fmt(target)}){extra}"
        self.lines.append(line)
        print(line, flush=True)
        return ok

    def ratio(self, what: str, a: Series, b: Series, target: float) -> bool:
        """``median(a) / median(b)`` against ``target``, with the range of the paired ratios."""
        pairs = paired_ratios(a, b)
        cpu = f"; CPU {a.cpu:.3f} s vs {b.cpu:.3f} s = {a.cpu / b.cpu:.2f}×" if b.cpu else ""
        return self.check(what, a.median / b.median, target, "×",
                          f"{a.spread()} vs {b.spread()}; paired ratios {min(pairs):.2f}–{max(pairs):.2f}{cpu}")

    def summary(self) -> int:
        print(f"\n{len(self.lines) - self.failed} of {len(self.lines)} targets met"
              f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        return 1 if self.failed else 0


def load_line(runs: int) -> str:
    return (f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {runs} alternating rounds;"
            " figures are median (min–max) wall clock")
