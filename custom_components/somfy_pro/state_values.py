"""State values as real boxes report them, read in one place so every reader agrees.

Real boxes do not agree on value types: ``core:BatteryLevelState`` comes as ``87``, ``45.5``,
``"100%"`` or ``"85 %"``; ``core:StatusState`` as ``"available"``/``"unavailable"`` or as a
boolean; ``core:RSSILevelState`` as a percentage (``80``, ``45.908``) or, for some sensor
families, as dBm (``-55``). The sensors, the entities' availability, the alerts and the
portal's snapshot all go through these functions, so an entity and its alert always agree.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Final

from .const import (
    STATE_BATTERY,
    STATE_CONTROLLER_BATTERY,
    STATE_INTRUSION,
    STATE_INTRUSION_DETECTED,
    STATE_INTRUSION_DETECTED_INTERNAL,
    STATE_SENSOR_DEFECT,
    STATE_STATUS,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Collection, Mapping

    from .box_api import Device, StateValue

# A number, optionally with a decimal point or comma, optionally followed by "%".
_PERCENT_TEXT = re.compile(r"\s*([0-9]+(?:[.,][0-9]+)?)\s*%?\s*")
# A plain decimal number in ASCII digits (not "1e2", "1_0" or other scripts' digits).
_NUMBER_TEXT = re.compile(r"\s*(-?[0-9]+(?:\.[0-9]+)?)\s*")
_ONLINE_TEXTS = frozenset({"available", "true"})
_OFFLINE_TEXTS = frozenset({"unavailable", "false"})

# dBm mapped to a 0-100 level: -100 dBm and weaker is 0, -50 dBm and stronger is 100,
# linear in between (2 points a dB), as Wi-Fi tools show dBm as a quality percentage.
DBM_FLOOR: Final = -100
DBM_FULL: Final = -50
# The low-battery words of ``core:BatteryState`` and ``rtds:ControllerBatteryState``.
_BATTERY_LOW_STATES = frozenset({"low", "verylow"})
# ``core:SensorDefectState``: "lowBattery" is a low battery (the battery entity and alert),
# these two are a defect (the problem entity and the ``sensor_defect`` alert).
_DEFECT_STATES: Final = frozenset({"maintenanceRequired", "dead"})
_DEFECT_LOW_BATTERY = "lowBattery"
# Gateway modes of a box in service. "NO_AUTO" (real TaHoma boxes report it) is a box that
# does not launch scenarios by itself (an "ACTIVE" box lists SCENARIO_AUTO_LAUNCHING among
# its functions): still activated, still driving its products.
_ACTIVATED_MODES = frozenset({"ACTIVE", "NO_AUTO"})
# Two-way radios whose products the box reports unavailable (DeviceUnavailableEvent), even
# those without ``core:StatusState`` (RTDS/RTD alarm sensors); RTS products are one-way.
_PRESENCE_PROTOCOLS = frozenset({"io", "rtds", "rtd"})


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


def _number(value: StateValue) -> float | None:
    """A finite number, from a number or a number in text; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and (match := _NUMBER_TEXT.fullmatch(value)):
        number = float(match.group(1))
    else:
        return None
    return number if math.isfinite(number) else None


def radio_level(value: StateValue) -> int | None:
    """The radio level in percent (0-100, rounded) of a ``core:RSSILevelState``.

    0 to 100 is a percentage; a negative value is dBm (not a percentage), mapped linearly
    from ``DBM_FLOOR`` (0) to ``DBM_FULL`` (100); over 100, or not a number, is None.
    """
    number = _number(value)
    if number is None or number > 100:
        return None
    if number < 0:
        number = (number - DBM_FLOOR) * 100 / (DBM_FULL - DBM_FLOOR)
        number = min(max(number, 0.0), 100.0)
    return math.floor(number + 0.5)


def gateway_activated(mode: str | None) -> bool | None:
    """Whether the box is in service, from its gateway mode; None if it does not say."""
    if mode is None:
        return None
    return mode.strip().upper() in _ACTIVATED_MODES


def battery_low(states: Mapping[str, StateValue]) -> bool | None:
    """A low battery, in any of the states that say so; None if none is reported."""
    if not reports_battery(states):
        return None
    return (
        states.get(STATE_BATTERY) in _BATTERY_LOW_STATES
        or states.get(STATE_CONTROLLER_BATTERY) in _BATTERY_LOW_STATES
        or states.get(STATE_SENSOR_DEFECT) == _DEFECT_LOW_BATTERY
    )


def reports_battery(states: Collection[str]) -> bool:
    """The product has a state that says whether its battery is low."""
    return any(s in states for s in (STATE_BATTERY, STATE_CONTROLLER_BATTERY, STATE_SENSOR_DEFECT))


def sensor_defect(states: Mapping[str, StateValue]) -> bool | None:
    """A sensor needing maintenance or dead (a low battery is not a defect); None if unsaid."""
    if STATE_SENSOR_DEFECT not in states:
        return None
    return states[STATE_SENSOR_DEFECT] in _DEFECT_STATES


def intrusion(states: Mapping[str, StateValue]) -> bool | None:
    """An intrusion detected, by a sensor (``core:``) or the box's alarm; None if unsaid."""
    if not reports_intrusion(states):
        return None
    return (
        states.get(STATE_INTRUSION_DETECTED) in (True, "detected")
        or states.get(STATE_INTRUSION_DETECTED_INTERNAL) == "detected"
        or states.get(STATE_INTRUSION) == "detected"
    )


def reports_intrusion(states: Collection[str]) -> bool:
    """The product has a state that says whether it detects an intrusion."""
    return any(
        s in states
        for s in (STATE_INTRUSION_DETECTED, STATE_INTRUSION_DETECTED_INTERNAL, STATE_INTRUSION)
    )


def reports_presence(device: Device) -> bool:
    """The box tells whether the product is reachable (its online entity and alert)."""
    return device.has_state(STATE_STATUS) or device.protocol in _PRESENCE_PROTOCOLS
