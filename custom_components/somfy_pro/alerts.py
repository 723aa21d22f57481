"""Alerts: derived from device states, reported once, remembered across restarts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypedDict

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, STATE_ASSEMBLY, STATE_PANIC, STATE_SENSOR_DEFECT, STATE_SMOKE
from .state_values import (
    battery_low,
    intrusion,
    reports_battery,
    reports_intrusion,
    reports_presence,
    sensor_defect,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from .box_api import Device

STORAGE_VERSION: Final = 1

ALERT_INTRUSION: Final = "intrusion"
ALERT_TAMPER: Final = "tamper"
ALERT_FIRE: Final = "fire"
ALERT_AGGRESSION: Final = "aggression"
ALERT_BATTERY_LOW: Final = "battery_low"
ALERT_SENSOR_DEFECT: Final = "sensor_defect"
ALERT_DEVICE_OFFLINE: Final = "device_offline"
ALERT_BOX_OFFLINE: Final = "box_offline"

DEVICE_ALERT_TYPES: Final = (
    ALERT_INTRUSION,
    ALERT_TAMPER,
    ALERT_FIRE,
    ALERT_AGGRESSION,
    ALERT_BATTERY_LOW,
    ALERT_SENSOR_DEFECT,
    ALERT_DEVICE_OFFLINE,
)
ALERT_TYPES: Final = (*DEVICE_ALERT_TYPES, ALERT_BOX_OFFLINE)
CLEARED_SUFFIX: Final = "_cleared"
EVENT_TYPES: Final = [t for alert in ALERT_TYPES for t in (alert, alert + CLEARED_SUFFIX)]

# Alerts about the box itself use this key in place of a device URL.
BOX_KEY: Final = "box"


def alert_capabilities(device: Device) -> list[str]:
    """The alert types a product can raise, from the states it reports or declares.

    Each alert has the entity that shows it (``binary_sensor.py``), read by the same
    functions of ``state_values``: intrusion, tamper, smoke, panic, battery low, problem, online.
    """
    states = device.known_states
    capabilities: list[str] = []
    if reports_intrusion(states):
        capabilities.append(ALERT_INTRUSION)
    if STATE_ASSEMBLY in states:
        capabilities.append(ALERT_TAMPER)
    if STATE_SMOKE in states:
        capabilities.append(ALERT_FIRE)
    if STATE_PANIC in states:
        capabilities.append(ALERT_AGGRESSION)
    if reports_battery(states):
        capabilities.append(ALERT_BATTERY_LOW)
    if STATE_SENSOR_DEFECT in states:
        capabilities.append(ALERT_SENSOR_DEFECT)
    if reports_presence(device):
        capabilities.append(ALERT_DEVICE_OFFLINE)
    return capabilities


def active_device_alerts(device: Device) -> set[str]:
    """The alert conditions a product reports right now."""
    states = device.states
    active: set[str] = set()
    if intrusion(states):
        active.add(ALERT_INTRUSION)
    if states.get(STATE_ASSEMBLY) == "open":
        active.add(ALERT_TAMPER)
    if states.get(STATE_SMOKE) == "detected":
        active.add(ALERT_FIRE)
    if states.get(STATE_PANIC) == "detected":
        active.add(ALERT_AGGRESSION)
    if battery_low(states):
        active.add(ALERT_BATTERY_LOW)
    if sensor_defect(states):
        active.add(ALERT_SENSOR_DEFECT)
    if not device.available and reports_presence(device):
        active.add(ALERT_DEVICE_OFFLINE)
    return active


@dataclass(frozen=True, slots=True)
class AlertChange:
    """An alert raised (``active``) or cleared on a device (or the box: ``BOX_KEY``)."""

    device_key: str
    alert: str
    active: bool
    time: datetime

    @property
    def event_type(self) -> str:
        """The event type: the alert, or the alert with ``_cleared``."""
        return self.alert if self.active else self.alert + CLEARED_SUFFIX


class _StoredAlerts(TypedDict):
    active: list[list[str]]


class AlertTracker:
    """Keeps the set of active alerts, reports each change once, and persists the set."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the store; call ``async_load`` before use."""
        self._hass = hass
        self._store: Store[_StoredAlerts] = Store(hass, STORAGE_VERSION, storage_key(entry_id))
        # (device key, alert) -> ISO time it was raised
        self.active: dict[tuple[str, str], str] = {}
        self._listeners: list[Callable[[AlertChange], None]] = []

    async def async_load(self) -> None:
        """Read the alerts already reported before a reload or restart."""
        stored = await self._store.async_load()
        if stored is None:
            return
        for item in stored.get("active", []):
            if len(item) == 3:
                self.active[(item[0], item[1])] = item[2]

    @callback
    def async_add_listener(self, listener: Callable[[AlertChange], None]) -> CALLBACK_TYPE:
        """Call ``listener`` for every alert raised or cleared."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    def count(self) -> int:
        """Number of alerts still going on."""
        return len(self.active)

    @callback
    def async_update(
        self, current: set[tuple[str, str]], scope: Iterable[str]
    ) -> list[AlertChange]:
        """Compare what is going on now with what was reported; report the difference.

        ``scope`` are the device keys ``current`` describes: alerts of other keys are left
        alone (a device the box cannot tell about while it is unreachable), except those of
        keys in ``forget`` of ``async_forget``.
        """
        scope = set(scope)
        now = dt_util.utcnow()
        changes: list[AlertChange] = []
        for key in sorted(self.active):
            if key[0] in scope and key not in current:
                del self.active[key]
                changes.append(AlertChange(key[0], key[1], False, now))
        for key in sorted(current - self.active.keys()):
            self.active[key] = now.isoformat()
            changes.append(AlertChange(key[0], key[1], True, now))
        if changes:
            self._async_save()
            for change in changes:
                for listener in list(self._listeners):
                    listener(change)
        return changes

    @callback
    def async_forget(self, keep: set[str]) -> None:
        """Drop, without reporting, the alerts of devices no longer paired."""
        gone = [key for key in self.active if key[0] not in keep and key[0] != BOX_KEY]
        for key in gone:
            del self.active[key]
        if gone:
            self._async_save()

    @callback
    def _async_save(self) -> None:
        data: _StoredAlerts = {"active": [[k[0], k[1], v] for k, v in sorted(self.active.items())]}
        self._hass.async_create_task(self._store.async_save(data), eager_start=True)

    def as_diagnostics(self) -> list[dict[str, Any]]:
        """The active alerts, for diagnostics."""
        return [
            {"device": key[0], "alert": key[1], "since": since}
            for key, since in sorted(self.active.items())
        ]


def storage_key(entry_id: str) -> str:
    """Store key of one entry's alerts."""
    return f"{DOMAIN}.{entry_id}.alerts"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an entry's alerts (the entry was deleted)."""
    await Store[_StoredAlerts](hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()
