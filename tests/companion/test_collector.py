"""The portal process's garbage collector, settled once it serves."""

from __future__ import annotations

import subprocess
import sys

from companion_server.collector import YOUNG_THRESHOLD

_PROBE = """
import gc, weakref
from companion_server import collector
class Node:
    pass
node = Node()
node.me = node  # garbage only a collection frees
gone = weakref.ref(node)
del node
collector.settle()
print(gc.get_threshold()[0], gc.get_freeze_count() > 1000, gone() is None)
"""


def test_the_start_is_frozen_without_its_garbage_and_young_collections_are_rarer() -> None:
    # In a process of its own: freezing this one would keep every test's objects for good.
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == [str(YOUNG_THRESHOLD), "True", "True"]
