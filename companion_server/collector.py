"""Python's garbage collector in a portal process holding thousands of connections."""

from __future__ import annotations

import gc

# Allocations between two collections of the youngest generation (CPython's default: 2,000).
YOUNG_THRESHOLD = 50_000


def settle() -> None:
    """Once the portal serves: what exists now lives as long as the process.

    Ten thousand Home Assistant connections are millions of objects, and every full
    collection walks them all. While a reconnection storm fills the heap, CPython runs one
    at each quarter of growth: 13 in a 10,000-home storm, about a fifth of the process's
    CPU. The objects of the start (modules, templates, compiled SQL) are taken out of the
    collector's sight, and the youngest generation is collected every 50,000 allocations
    instead of 2,000: far fewer collections reach the old generations, for a few MiB more
    garbage held between two collections.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
