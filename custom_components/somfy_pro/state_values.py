"""State values as real boxes report them, read in one place so every reader agrees.

Real boxes do not agree on value types: ``core:BatteryLevelState`` comes as ``87``, ``45.5``,
``"100%"`` or ``"85 %"``; ``core:StatusState`` as ``"available"``/``"unavailable"`` or as a
boolean. The sensors, the entities' availability, the alerts and the portal's snapshot all go
through these functions.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .box_api import StateValue

# A number, optionally with a decimal point or comma, optionally followed by "%".
_PERCENT_TEXT = re.compile(r"\s*([0-9]+(?:[.,][0-9]+)?)\s*%?\s*")
_ONLINE_TEXTS = frozenset({"available", "true"})
_OFFLINE_TEXTS = frozenset({"unavailable", "false"})


def battery_level(value: StateValue) -> int | None:
    """A battery percentage (0-100, decimals dropped), or None for anything else."""
    number: float
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str) and (match := _PERCENT_TEXT.fullmatch(value)):
        number = float(match.group(1).replace(",", "."))
    else:
        return None
    if math.isnan(number) or not 0 <= number <= 100:
        return None
    return int(number)


def status_online(value: StateValue) -> bool | None:
    """Whether a ``core:StatusState`` says online (True) or offline (False); None if unsure."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _ONLINE_TEXTS:
            return True
        if text in _OFFLINE_TEXTS:
            return False
    return None
