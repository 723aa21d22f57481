"""State values and timestamps as the box writes them."""

from __future__ import annotations

import time
from typing import Any

# None: a state reported with type 0 and no value.
type StateValue = str | int | float | bool | list[Any] | dict[str, Any] | None


def now_ms() -> int:
    """Milliseconds since the epoch, as Overkiz timestamps are."""
    return int(time.time() * 1000)


def type_of_value(value: StateValue) -> int:
    """The Overkiz type code of a state value (for a state a product does not define)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 6
    if isinstance(value, int):
        return 1
    if isinstance(value, float):
        return 2
    if isinstance(value, list):
        return 10
    if isinstance(value, dict):
        return 11
    return 3
