"""Values every reader of a box's number (battery, radio level) answers alike.

Each test file keeps its own rows (what its reader makes of text, units, its range) and adds
these, so that a value both must refuse is listed once.
"""

from __future__ import annotations

from typing import Any

# The bounds of a percentage, read as they are.
BOUNDS: list[tuple[Any, int]] = [(0, 0), (100, 100)]

# Never a level: text float() would read but a box never writes (exponent, Arabic-Indic
# digits), numbers no percentage can be, booleans (ints to Python), nothing at all.
NEVER_A_LEVEL: list[Any] = [
    "1e2",
    "\u0665\u0660",
    "",
    10**40,
    float("nan"),
    float("inf"),
    True,
    False,
    None,
]

REFUSED: list[tuple[Any, None]] = [(value, None) for value in NEVER_A_LEVEL]
