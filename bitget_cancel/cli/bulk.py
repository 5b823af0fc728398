"""Building hundreds of thousands of small objects at once (targets files, reports)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk of acyclic objects is built.

    None of them is in a reference cycle, yet each collection walks them all again: at 200k
    rows a third of the time, and the cost per row grows with the file (measured in
    benchmarks/workloads/targets_file.py). Reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
