"""Checking a large wave's reports on every core.

Reading and verifying a report is work (I/O, base64, JSON, the canonical form, pydantic,
ECDSA) of about a millisecond, independent of every other report: a wave of a thousand
hosts is spread over forked worker processes, which inherit the wave, the policy and
the list of files (nothing is sent to them but index ranges), read their share and send
back the checked reports, which hold no report bytes. Checking creates no reference
cycles, so the cyclic garbage collector is paused meanwhile (it would rescan the growing
heap again and again, which tripled the time of a wave). Small waves, and the HTTP
service (whose threads make forking unsafe), check in-process. The result is the same
list, in the same order, either way.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Sequence

from compliance.promote.readers import ReportSource
from compliance.promote.report_verify import CheckedReport, Expectations, check_report
from compliance.util.gcpause import cyclic_gc_paused

PARALLEL_FROM = 200  # below this, starting processes costs more than it saves
MAX_PROCESSES = 8

_shared: tuple[Sequence[ReportSource], Expectations] | None = None


def available_processes() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PROCESSES))


def _check(sources: Sequence[ReportSource], ctx: Expectations) -> list[CheckedReport]:
    with cyclic_gc_paused():
        return [check_report(source.read(), ctx) for source in sources]


def _check_range(bounds: tuple[int, int]) -> list[CheckedReport]:
    assert _shared is not None, "worker started without the shared reports"
    sources, ctx = _shared
    return _check(sources[bounds[0]:bounds[1]], ctx)


def check_reports(sources: Sequence[ReportSource], ctx: Expectations, processes: int | None = None) -> list[CheckedReport]:
    """Every report read and checked, in order; over ``processes`` (default: the cores
    this process may use) when the wave is large enough to gain from it."""
    global _shared
    count = available_processes() if processes is None else processes
    if count <= 1 or len(sources) < PARALLEL_FROM:
        return _check(sources, ctx)
    size = -(-len(sources) // (count * 4))  # a few chunks per process: a slow one does not hold the rest
    bounds = [(start, min(start + size, len(sources))) for start in range(0, len(sources), size)]
    _shared = (sources, ctx)
    gc.freeze()  # the workers' collections then never write to (and so copy) the pages they inherit
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            chunks = pool.map(_check_range, bounds)
    finally:
        gc.unfreeze()
        _shared = None
    return [checked for chunk in chunks for checked in chunk]
