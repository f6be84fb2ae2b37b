"""Pause CPython's cyclic garbage collector while a bulk step allocates.

Reading 20,000 vulnerability findings, or judging them, allocates hundreds of thousands
of small objects and creates no reference cycles. The cyclic collector nevertheless
rescans every live container again and again as allocations pile up, which made reading
grow faster than linearly (two thirds of the reading time at 20,000 findings, see
docs/performance.md). Reference counting still frees everything while the collector is
paused; it resumes, as it was, when the step ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects (it would rescan them for nothing)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
