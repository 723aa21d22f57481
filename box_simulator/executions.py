"""Action groups sent to the box: their checks, their run over time and their cancellation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
import uuid

from . import errors
from .paired import PAIRING_SECONDS, REMOTE_ADDRESS_RE, PairedDevices
from .values import now_ms

if TYPE_CHECKING:
    from collections.abc import Callable

    from .device import Device


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


class Executions(PairedDevices):
    """The box's running executions (the third layer of :class:`box_simulator.box.Box`).

    The attributes are set by ``Box.__init__``.
    """

    move_seconds: float
    on_reboot: Callable[[], None] | None
    executions: dict[str, Execution]

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
