"""The simulated box: gateway, devices, event listeners and executions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import re
import time
from typing import TYPE_CHECKING, Any
import uuid

from . import errors
from .scenario import DeviceSpec

if TYPE_CHECKING:
    from collections.abc import Callable

    from .scenario import Profile, Scenario, StateValue

PROTOCOL_VERSION = "2025.3.2-5"
LISTENER_TIMEOUT = 600.0
PAIRING_SECONDS = 120.0
CONTROLLERS_STATE = "core:PairedOneWayControllersState"
REMOTE_ADDRESS_RE = re.compile(r"^[0-9A-Fa-f]{6,8}$")
ALERT_TYPES = ("intrusion", "tamper", "smoke", "battery_low", "sensor_defect")


def now_ms() -> int:
    """Milliseconds since the epoch, as Overkiz timestamps are."""
    return int(time.time() * 1000)


def discrete_rssi(level: int) -> str:
    """Map a 0-100 radio level to the box's discrete level."""
    if level < 25:
        return "verylow"
    if level < 50:
        return "low"
    if level < 75:
        return "normal"
    return "good"


@dataclass
class Device:
    """A paired product."""

    url: str
    label: str
    profile: Profile
    place_oid: str
    states: dict[str, tuple[int, StateValue]]
    available: bool = True
    oid: str = field(default_factory=lambda: str(uuid.uuid4()))
    creation_time: int = field(default_factory=now_ms)

    def state(self, name: str) -> StateValue | None:
        """Return one state's value, or None."""
        entry = self.states.get(name)
        return None if entry is None else entry[1]

    def to_json(self, setup_oid: str) -> dict[str, Any]:
        """Serialise as ``setup/devices`` does."""
        profile = self.profile
        return {
            "creationTime": self.creation_time,
            "lastUpdateTime": self.creation_time,
            "label": self.label,
            "deviceURL": self.url,
            "shortcut": False,
            "controllableName": profile.controllable_name,
            "definition": {
                "commands": [
                    {"commandName": name, "nparams": n} for name, n in profile.commands.items()
                ],
                "states": [
                    {"type": _definition_type(t), "qualifiedName": name}
                    for name, (t, _) in self.states.items()
                ],
                "dataProperties": [],
                "widgetName": profile.widget,
                "uiProfiles": [],
                "uiClass": profile.ui_class,
                "qualifiedName": profile.controllable_name,
                "type": "ACTUATOR" if profile.type == 1 else "SENSOR",
            },
            "states": [
                {"name": name, "type": t, "value": value}
                for name, (t, value) in self.states.items()
            ],
            "attributes": [
                {"name": name, "type": t, "value": value}
                for name, (t, value) in profile.attributes.items()
            ],
            "available": self.available,
            "enabled": True,
            "placeOID": self.place_oid,
            "widget": profile.widget,
            "type": profile.type,
            "oid": self.oid,
            "uiClass": profile.ui_class,
            "setupOID": setup_oid,
        }


def _definition_type(state_type: int) -> str:
    return {1: "DiscreteState", 2: "ContinuousState", 6: "DiscreteState"}.get(
        state_type, "DataState"
    )


@dataclass
class Listener:
    """An event listener registered by a client."""

    id: str
    last_fetch: float
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Execution:
    """A running action group."""

    id: str
    label: str
    actions: list[dict[str, Any]]
    start_time: int
    state: str = "INITIALIZED"
    task: asyncio.Task[None] | None = None

    def to_json(self) -> dict[str, Any]:
        """Serialise as ``exec/current`` does."""
        return {
            "startTime": self.start_time,
            "owner": "local",
            "actionGroup": {"label": self.label, "shortcut": False, "actions": self.actions},
            "id": self.id,
            "description": "Execution : " + self.label,
            "executionType": "Immediate execution",
            "executionSubType": "MANUAL_CONTROL",
            "state": self.state,
        }


class Box:
    """State and behaviour of one box; the HTTP layers only translate to and from it."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        move_seconds: float = 1.0,
        listener_timeout: float = LISTENER_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        profiles: dict[str, Profile] | None = None,
    ) -> None:
        """Build the box from a scenario; ``profiles`` describe products paired later."""
        self.pin = scenario.pin
        self.firmware = scenario.firmware
        self.label = scenario.label
        self.cloud_fields = dict(scenario.cloud_fields) if scenario.cloud_fields else None
        self.move_seconds = move_seconds
        self.listener_timeout = listener_timeout
        self.clock = clock
        self.profiles = profiles or {}
        self.on_reboot: Callable[[], None] | None = None
        self.pairing_until: float | None = None
        self.setup_oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"setup:{self.pin}"))
        self.root_place_oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"place:{self.pin}"))
        self.places: dict[str, str] = {}
        self.creation_time = now_ms()
        self.devices: dict[str, Device] = {}
        self.listeners: dict[str, Listener] = {}
        self.executions: dict[str, Execution] = {}
        for spec in scenario.devices:
            self._add_device(spec)

    # -- setup -----------------------------------------------------------------

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
        device = Device(
            url=url,
            label=spec.label,
            profile=spec.profile,
            place_oid=self._place_oid(spec.place),
            states=states,
        )
        self.devices[url] = device
        return device

    def device(self, url: str) -> Device:
        """Return a paired device or raise the box's error."""
        try:
            return self.devices[url]
        except KeyError:
            raise errors.no_such_device(url) from None

    def gateway_json(self) -> dict[str, Any]:
        """Serialise as ``setup/gateways`` does on the local API."""
        gateway: dict[str, Any] = {
            "gatewayId": self.pin,
            "connectivity": {"status": "OK", "protocolVersion": self.firmware},
        }
        if self.cloud_fields is not None:
            gateway.update(self.cloud_fields)
        return gateway

    def setup_json(self) -> dict[str, Any]:
        """Serialise as ``setup`` does."""
        return {
            "creationTime": self.creation_time,
            "lastUpdateTime": self.creation_time,
            "id": f"SETUP-{self.pin}",
            "location": {
                "creationTime": self.creation_time,
                "lastUpdateTime": self.creation_time,
                "city": "Cluses",
                "country": "FR",
                "postalCode": "74300",
                "addressLine1": "",
                "addressLine2": "",
                "timezone": "Europe/Paris",
                "longitude": 6.58,
                "latitude": 46.06,
                "twilightMode": 2,
                "twilightAngle": "SOLAR",
                "twilightCity": "paris",
                "summerSolsticeDuskMinutes": 1290,
                "winterSolsticeDuskMinutes": 990,
                "twilightOffsetEnabled": False,
                "dawnOffset": 0,
                "duskOffset": 0,
            },
            "gateways": [self.gateway_json()],
            "devices": [d.to_json(self.setup_oid) for d in self.devices.values()],
            "zones": [],
            "resellerDelegationType": "NEVER",
            "oid": self.setup_oid,
            "rootPlace": {
                "creationTime": self.creation_time,
                "lastUpdateTime": self.creation_time,
                "label": "My home",
                "type": 200,
                "oid": self.root_place_oid,
                "subPlaces": [
                    {
                        "creationTime": self.creation_time,
                        "lastUpdateTime": self.creation_time,
                        "label": label,
                        "type": 108,
                        "oid": oid,
                        "subPlaces": [],
                    }
                    for label, oid in self.places.items()
                ],
            },
            "features": [],
        }

    # -- events ----------------------------------------------------------------

    def emit(self, name: str, **fields: Any) -> None:
        """Queue an event for every live listener."""
        self.expire_listeners()
        event = {"name": name, "timestamp": now_ms(), "setupOID": self.setup_oid, **fields}
        for listener in self.listeners.values():
            listener.events.append(event)

    def expire_listeners(self) -> None:
        """Forget listeners not fetched for ``listener_timeout`` seconds."""
        limit = self.clock() - self.listener_timeout
        for listener_id in [k for k, v in self.listeners.items() if v.last_fetch < limit]:
            del self.listeners[listener_id]

    def register_listener(self) -> str:
        """Register a new event listener."""
        self.expire_listeners()
        listener = Listener(id=str(uuid.uuid4()), last_fetch=self.clock())
        self.listeners[listener.id] = listener
        return listener.id

    def fetch(self, listener_id: str) -> list[dict[str, Any]]:
        """Return and clear a listener's events."""
        self.expire_listeners()
        listener = self.listeners.get(listener_id)
        if listener is None:
            raise errors.no_listener()
        listener.last_fetch = self.clock()
        events, listener.events = listener.events, []
        return events

    def unregister_listener(self, listener_id: str) -> None:
        """Drop a listener; unknown ids are accepted, as on a real box."""
        self.listeners.pop(listener_id, None)

    def forget_volatile(self) -> None:
        """What a reboot loses: listeners and running executions."""
        self.listeners.clear()
        for execution in self.executions.values():
            if execution.task is not None:
                execution.task.cancel()
        self.executions.clear()

    # -- states ----------------------------------------------------------------

    def set_states(self, url: str, values: dict[str, StateValue]) -> None:
        """Change states of a device and emit DeviceStateChangedEvent."""
        device = self.device(url)
        changed = []
        for name, value in values.items():
            state_type = device.states[name][0] if name in device.states else _state_type(value)
            device.states[name] = (state_type, value)
            changed.append({"name": name, "type": state_type, "value": value})
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
        if "core:StatusState" in device.states:
            self.set_states(url, {"core:StatusState": "available" if online else "unavailable"})
        self.emit("DeviceAvailableEvent" if online else "DeviceUnavailableEvent", deviceURL=url)

    def set_firmware(self, up_to_date: bool, firmware: str | None = None) -> None:
        """Mark the box firmware out of date (or current again)."""
        if firmware:
            self.firmware = firmware
        if self.cloud_fields is None:
            self.cloud_fields = {"alive": True, "mode": "ACTIVE"}
        self.cloud_fields["upToDate"] = up_to_date
        self.cloud_fields["updateStatus"] = "UP_TO_DATE" if up_to_date else "READY_TO_UPDATE"

    def set_alert(self, url: str, alert: str, active: bool) -> None:
        """Raise or clear an alert on a device, with the states a real sensor reports."""
        device = self.device(url)
        states: dict[str, StateValue] = {}
        has = device.states.__contains__
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
        elif alert == "battery_low" and has("core:BatteryState"):
            states["core:BatteryState"] = "low" if active else "full"
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

    # -- pairing ---------------------------------------------------------------

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

    # -- executions ------------------------------------------------------------

    def apply(self, body: Any) -> str:
        """Validate and start an action group; return its execution id."""
        if not isinstance(body, dict) or not isinstance(body.get("actions"), list):
            raise errors.bad_request("Invalid action group : missing actions")
        if not body["actions"]:
            raise errors.bad_request("Invalid action group : no action")
        plan: list[tuple[Device, str, list[Any]]] = []
        for action in body["actions"]:
            if not isinstance(action, dict) or not isinstance(action.get("deviceURL"), str):
                raise errors.bad_request("Invalid action : missing deviceURL")
            device = self.device(action["deviceURL"])
            commands = action.get("commands")
            if not isinstance(commands, list) or not commands:
                raise errors.bad_request("Invalid action : missing commands")
            for command in commands:
                name, params = _command(command)
                _check_command(device, name, params)
                plan.append((device, name, params))
        execution = Execution(
            id=str(uuid.uuid4()),
            label=str(body.get("label") or ""),
            actions=body["actions"],
            start_time=now_ms(),
        )
        self.executions[execution.id] = execution
        self.emit(
            "ExecutionRegisteredEvent",
            execId=execution.id,
            label=execution.label,
            metadata=None,
            type=1,
            subType=1,
            actions=execution.actions,
        )
        execution.task = asyncio.get_running_loop().create_task(self._run(execution, plan))
        return execution.id

    def _exec_state(self, execution: Execution, new: str, **extra: Any) -> None:
        old, execution.state = execution.state, new
        self.emit(
            "ExecutionStateChangedEvent",
            execId=execution.id,
            newState=new,
            oldState=old,
            ownerKey=self.setup_oid,
            type=1,
            subType=1,
            timeToNextState=-1 if new in ("COMPLETED", "FAILED") else 0,
            **extra,
        )

    async def _run(self, execution: Execution, plan: list[tuple[Device, str, list[Any]]]) -> None:
        try:
            self._exec_state(execution, "TRANSMITTED")
            self._exec_state(execution, "IN_PROGRESS")
            offline = [d for d, _, _ in plan if not d.available]
            if offline:
                self._exec_state(
                    execution,
                    "FAILED",
                    failureType="NONEXEC_OTHER",
                    failureTypeCode=106,
                    failedCommands=[
                        {
                            "deviceURL": d.url,
                            "rank": 0,
                            "command": {"type": 1, "name": n, "parameters": p},
                            "failureType": "NONEXEC_OTHER",
                        }
                        for d, n, p in plan
                        if d in offline
                    ],
                )
                return
            await asyncio.gather(*(self._perform(d, n, p) for d, n, p in plan))
            self._exec_state(execution, "COMPLETED")
        finally:
            self.executions.pop(execution.id, None)

    async def _perform(self, device: Device, name: str, params: list[Any]) -> None:
        """Apply a command's effect on states, moving covers over ``move_seconds``."""
        url = device.url
        if name == "reboot" and self.on_reboot is not None:
            asyncio.get_running_loop().call_later(0.1, self.on_reboot)
            return
        if name == "discover1WayController":
            self.pairing_until = self.clock() + PAIRING_SECONDS
            return
        if name in ("pairOneWayController", "unpairOneWayController"):
            self._pair_controller(device, str(params[0]), name == "pairOneWayController")
            return
        if name == "setName":
            device.label = str(params[0])
            self.set_states(url, {"core:NameState": device.label})
            self.emit("DeviceUpdatedEvent", deviceURL=url)
            return
        if name == "setMemorized1Position":
            self.set_states(url, {"core:Memorized1PositionState": int(params[0])})
            return
        if name == "setOrientation":
            self.set_states(url, {"core:SlateOrientationState": int(params[0])})
            return
        target: int | None = None
        if name in ("open", "up", "undeploy"):
            target = 0
        elif name in ("close", "down", "deploy"):
            target = 100
        elif name == "my" and "core:Memorized1PositionState" in device.states:
            memorized = device.state("core:Memorized1PositionState")
            target = memorized if isinstance(memorized, int) else 0
        elif name in ("setClosure", "setClosureAndOrientation"):
            target = int(params[0])
            if name == "setClosureAndOrientation":
                self.set_states(url, {"core:SlateOrientationState": int(params[1])})
        if target is None or "core:ClosureState" not in device.states:
            return  # RTS products and commands without feedback change no state
        self.set_states(url, {"core:MovingState": True, "core:TargetClosureState": target})
        await asyncio.sleep(self.move_seconds)
        self.set_states(
            url,
            {
                "core:ClosureState": target,
                "core:OpenClosedState": "closed" if target == 100 else "open",
                "core:MovingState": False,
            },
        )

    def cancel(self, exec_id: str | None = None) -> None:
        """Cancel one execution, or all of them."""
        ids = [exec_id] if exec_id else list(self.executions)
        for execution_id in ids:
            execution = self.executions.get(execution_id)
            if execution is None:
                if exec_id:
                    raise errors.unknown_object()
                continue
            if execution.task is not None:
                execution.task.cancel()
            self._exec_state(execution, "FAILED", failureType="CMDCANCELLED", failureTypeCode=107)
            self.executions.pop(execution_id, None)


def _state_type(value: StateValue) -> int:
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


def _command(command: Any) -> tuple[str, list[Any]]:
    if not isinstance(command, dict) or not isinstance(command.get("name"), str):
        raise errors.bad_request("Invalid command : missing name")
    params = command.get("parameters") or []
    if not isinstance(params, list):
        raise errors.bad_request("Invalid command : parameters must be a list")
    return command["name"], params


# Minimum parameter counts and value checks of the commands that take parameters.
_INT_0_100 = ("setClosure", "setMemorized1Position", "setOrientation", "setClosureAndOrientation")


def _check_command(device: Device, name: str, params: list[Any]) -> None:
    nparams = device.profile.commands.get(name)
    if nparams is None:
        raise errors.no_such_command(name)
    required = 0 if name in ("wink", "identify") else nparams
    if not required <= len(params) <= nparams:
        raise errors.invalid_parameters(name, f"expected {nparams} parameter(s), got {len(params)}")
    if name in _INT_0_100:
        for value in params:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
                raise errors.invalid_parameters(name, f"{value!r} is not an integer 0-100")
    if name in ("pairOneWayController", "unpairOneWayController") and not (
        isinstance(params[0], str) and REMOTE_ADDRESS_RE.match(params[0])
    ):
        raise errors.invalid_parameters(name, "a remote address of 6 to 8 hex digits is expected")
    if name == "setName" and (not isinstance(params[0], str) or not 0 < len(params[0]) <= 64):
        raise errors.invalid_parameters(name, "a name of 1 to 64 characters is expected")
