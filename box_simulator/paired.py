"""The products paired with the box: pairing, their states and the alerts they report."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
import uuid

from . import errors
from .device import Device, discrete_rssi, state_json
from .events import EventSource
from .scenario import DeviceSpec, Profile
from .values import type_of_value

if TYPE_CHECKING:
    from .values import StateValue

PAIRING_SECONDS = 120.0
CONTROLLERS_STATE = "core:PairedOneWayControllersState"
REMOTE_ADDRESS_RE = re.compile(r"^[0-9A-Fa-f]{6,8}$")
ALERT_TYPES = ("intrusion", "tamper", "smoke", "aggression", "battery_low", "sensor_defect")


class PairedDevices(EventSource):
    """The box's paired products (the second layer of :class:`box_simulator.box.Box`).

    The attributes are set by ``Box.__init__``.
    """

    pin: str
    profiles: dict[str, Profile]
    pairing_until: float | None
    root_place_oid: str
    places: dict[str, str]
    devices: dict[str, Device]

    def _place_oid(self, place: str | None) -> str:
        if place is None:
            return self.root_place_oid
        return self.places.setdefault(
            place, str(uuid.uuid5(uuid.NAMESPACE_URL, f"place:{self.pin}:{place}"))
        )

    def _add_device(self, spec: DeviceSpec) -> Device:
        url = f"{spec.profile.protocol}://{self.pin}/{spec.address}"
        if url in self.devices:
            raise ValueError(f"device already paired: {url}")
        states: dict[str, tuple[int, StateValue]] = {}
        for name, (state_type, value) in spec.profile.states.items():
            if name in spec.states:
                value = spec.states[name]
            elif isinstance(value, str):
                value = value.format(label=spec.label)
            states[name] = (state_type, value)
        # A scenario may report more: a declared state (something happened) or any other.
        for name, value in spec.states.items():
            if name not in states:
                states[name] = (type_of_value(value), value)
        device = Device(
            url=url,
            label=spec.label,
            profile=spec.profile,
            place_oid=self._place_oid(spec.place),
            states=states,
        )
        self.devices[url] = device
        return device

    def _add_replayed(self, raw: dict[str, Any]) -> Device:
        """Add a device of a real box's dump, kept as the dump has it."""
        url = raw["deviceURL"]
        states: dict[str, tuple[int, StateValue]] = {}
        for state in raw.get("states") or []:
            states[state["name"]] = (state.get("type", 0), state.get("value"))
        place_oid = raw.get("placeOID")
        creation_time = raw.get("creationTime")
        device = Device(
            url=url,
            label=str(raw.get("label", "")),
            profile=replayed_profile(raw),
            place_oid=place_oid if isinstance(place_oid, str) else self.root_place_oid,
            states=states,
            available=bool(raw.get("available", True)),
            raw=raw,
        )
        if isinstance(raw.get("oid"), str):
            device.oid = raw["oid"]
        if isinstance(creation_time, int):
            device.creation_time = creation_time
        self.devices[url] = device
        return device

    def device(self, url: str) -> Device:
        """Return a paired device or raise the box's error."""
        try:
            return self.devices[url]
        except KeyError:
            raise errors.no_such_device(url) from None

    def set_states(
        self, url: str, values: dict[str, StateValue], types: dict[str, int] | None = None
    ) -> None:
        """Change (or first report) states of a device and emit DeviceStateChangedEvent.

        Any state may be set, reported before or not; its type code is ``types[name]`` when
        given, else the one the value calls for (a number keeps its state's numeric type).
        """
        device = self.device(url)
        changed = []
        for name, value in values.items():
            state_type = _state_type(device.states.get(name), value)
            if types and name in types:
                state_type = types[name]
            device.states[name] = (state_type, value)
            changed.append(state_json(name, state_type, value))
        if changed:
            self.emit("DeviceStateChangedEvent", deviceURL=url, deviceStates=changed)

    def set_rssi(self, url: str, level: int) -> None:
        """Change a device's radio level (io devices only)."""
        device = self.device(url)
        if "core:RSSILevelState" not in device.states:
            raise ValueError(f"{url} has no radio level (not an io device)")
        if not 0 <= level <= 100:
            raise ValueError("radio level must be 0-100")
        self.set_states(
            url, {"core:RSSILevelState": level, "core:DiscreteRSSILevelState": discrete_rssi(level)}
        )

    def set_device_online(self, url: str, online: bool) -> None:
        """Take a device offline or bring it back."""
        device = self.device(url)
        if device.available == online:
            return
        device.available = online
        status = device.state("core:StatusState")
        if isinstance(status, bool):  # some firmware reports the status as a boolean
            self.set_states(url, {"core:StatusState": online})
        elif "core:StatusState" in device.states:
            self.set_states(url, {"core:StatusState": "available" if online else "unavailable"})
        self.emit("DeviceAvailableEvent" if online else "DeviceUnavailableEvent", deviceURL=url)

    def set_alert(self, url: str, alert: str, active: bool) -> None:
        """Raise or clear an alert on a device, with the states a real sensor reports."""
        device = self.device(url)
        states: dict[str, StateValue] = {}

        def has(name: str) -> bool:
            return name in device.states or name in device.profile.declared

        if alert == "intrusion":
            if has("core:IntrusionDetectedState"):
                states["core:IntrusionDetectedState"] = active
            if has("core:IntrusionState"):
                states["core:IntrusionState"] = "detected" if active else "notDetected"
            if has("core:ContactState"):
                states["core:ContactState"] = "open" if active else "closed"
            if has("core:OccupancyState"):
                states["core:OccupancyState"] = "personInside" if active else "noPersonInside"
        elif alert == "tamper" and has("core:AssemblyState"):
            states["core:AssemblyState"] = "open" if active else "closed"
        elif alert == "smoke" and has("core:SmokeState"):
            states["core:SmokeState"] = "detected" if active else "notDetected"
        elif alert == "aggression" and has("core:PanicEventState"):
            # The panic button of an alarm remote or keypad (values: see README.md).
            states["core:PanicEventState"] = "detected" if active else "notDetected"
        elif alert == "battery_low" and has("core:BatteryState"):
            states["core:BatteryState"] = "low" if active else "normal"
            if has("core:BatteryLevelState"):
                states["core:BatteryLevelState"] = 8 if active else 100
            if has("core:SensorDefectState"):
                states["core:SensorDefectState"] = "lowBattery" if active else "noDefect"
        elif alert == "sensor_defect" and has("core:SensorDefectState"):
            states["core:SensorDefectState"] = "maintenanceRequired" if active else "noDefect"
        if alert not in ALERT_TYPES:
            raise ValueError(f"unknown alert type {alert!r}; one of {', '.join(ALERT_TYPES)}")
        if not states:
            raise ValueError(f"{device.label} cannot report {alert}")
        self.set_states(url, states)

    def _remote(self, address: str, label: str | None = None) -> Device:
        """Return the io remote with this address, pairing it with the box if new."""
        url = f"io://{self.pin}/{address}"
        if url in self.devices:
            return self.devices[url]
        return self.pair(
            DeviceSpec(
                profile=self.profiles["io_remote"],
                address=address,
                label=label or f"Remote {address}",
            )
        )

    def _pair_controller(self, device: Device, address: str, paired: bool) -> None:
        """Pair (or unpair) a one-way remote control with an actuator."""
        remote = self._remote(address)
        current = device.state(CONTROLLERS_STATE)
        controllers = [c for c in current if c != remote.url] if isinstance(current, list) else []
        if paired:
            controllers.append(remote.url)
        self.set_states(device.url, {CONTROLLERS_STATE: controllers})

    def press_remote(self, address: str, label: str | None = None) -> Device:
        """The customer presses PROG on a remote while the box listens (discover1WayController)."""
        if self.pairing_until is None or self.clock() > self.pairing_until:
            raise ValueError("the box is not in pairing mode (run discover1WayController first)")
        if not REMOTE_ADDRESS_RE.match(address):
            raise ValueError("a remote address is 6 to 8 hexadecimal digits")
        self.pairing_until = None
        return self._remote(address, label)

    def pair(self, spec: DeviceSpec) -> Device:
        """Pair a new device and announce it."""
        device = self._add_device(spec)
        self.emit("DeviceCreatedEvent", deviceURL=device.url)
        return device

    def unpair(self, url: str) -> None:
        """Remove a device and announce it."""
        self.device(url)
        del self.devices[url]
        self.emit("DeviceRemovedEvent", deviceURL=url)


def replayed_profile(raw: dict[str, Any]) -> Profile:
    """What a replayed device can do: the commands of its definition (none without one)."""
    definition = raw.get("definition")
    commands: dict[str, int] = {}
    if isinstance(definition, dict):
        for command in definition.get("commands") or []:
            if isinstance(command, dict) and isinstance(command.get("commandName"), str):
                commands[command["commandName"]] = int(command.get("nparams") or 0)
    device_type = raw.get("type")
    return Profile(
        name="replayed",
        protocol=str(raw["deviceURL"]).partition("://")[0],
        controllable_name=str(raw.get("controllableName") or ""),
        ui_class=str(raw.get("uiClass") or ""),
        widget=str(raw.get("widget") or ""),
        type=device_type if isinstance(device_type, int) else 0,
        commands=commands,
        states={},
        attributes={},
    )


def _state_type(current: tuple[int, StateValue] | None, value: StateValue) -> int:
    new = type_of_value(value)
    if current is not None and current[0] in (1, 2) and new in (1, 2):
        return current[0]
    return new
