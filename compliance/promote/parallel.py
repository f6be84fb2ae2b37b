"""Checking a large wave's reports on every core.

Verifying a report is CPU work (base64, JSON, the canonical form, pydantic, ECDSA) of
about a millisecond, independent of every other report: a wave of a thousand hosts is
spread over forked worker processes, which inherit the wave, the policy and the reports
already read (nothing is sent to them but index ranges) and send back the checked
reports without their bytes. Checking creates no reference cycles, so the cyclic
garbage collector is paused meanwhile (it would rescan the growing heap again and again,
which tripled the time of a wave). Small waves, and the HTTP service (whose threads make
forking unsafe), check in-process. The result is the same list, in the same order,
either way.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from dataclasses import replace

from ..gcpause import cyclic_gc_paused
from .readers import Candidate
from .verify import CheckedReport, Expectations, check_report

PARALLEL_FROM = 200  # below this, starting processes costs more than it saves
MAX_PROCESSES = 8

_shared: tuple[list[Candidate], Expectations] | None = None


def available_processes() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PROCESSES))


def _check_range(bounds: tuple[int, int]) -> list[CheckedReport]:
    assert _shared is not None, "worker started without the shared reports"
    candidates, ctx = _shared
    checked = []
    with cyclic_gc_paused():
        for candidate in candidates[bounds[0]:bounds[1]]:
            result = check_report(candidate, ctx)
            checked.append(replace(result, candidate=replace(candidate, data=b"", signature=None)))
    return checked


def check_reports(candidates: list[Candidate], ctx: Expectations, processes: int | None = None) -> list[CheckedReport]:
    """Every candidate checked, in order; over ``processes`` (default: the cores this
    process may use) when the wave is large enough to gain from it."""
    global _shared
    count = available_processes() if processes is None else processes
    if count <= 1 or len(candidates) < PARALLEL_FROM:
        with cyclic_gc_paused():
            return [check_report(c, ctx) for c in candidates]
    size = -(-len(candidates) // (count * 4))  # a few chunks per process: a slow one does not hold the rest
    bounds = [(start, min(start + size, len(candidates))) for start in range(0, len(candidates), size)]
    _shared = (candidates, ctx)
    gc.freeze()  # the workers' collections then never write to (and so copy) the pages they inherit
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            chunks = pool.map(_check_range, bounds)
    finally:
        gc.unfreeze()
        _shared = None
    results = [checked for chunk in chunks for checked in chunk]
    return [replace(result, candidate=candidate) for result, candidate in zip(results, candidates, strict=True)]
