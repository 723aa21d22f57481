"""Checks of an installer's action against the box: devices, parameters, values, remotes.

Each check either builds the plan (the commands to run on the box) or refuses the action
with the error code the portal shows the installer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import TYPE_CHECKING, Any, Final

from .parameters import (
    MY_POSITION_UI_CLASSES,
    Parameter,
    editable_parameters,
    read_only_reason,
)
from .remote_code import UnreadableCode, read_remote_code
from .remote_window import KIND_PAIR_REMOTE, KIND_PARAMETERS, KIND_REBOOT

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    from .box_api import Device

# Error codes of ``action_result`` (the portal translates them for the installer).
ERROR_INVALID_ACTION: Final = "invalid_action"
# What the customer's web app (P23) may do to a product, as the box's own app does.
WEB_APP_OPEN: Final = "open_web_app"
WEB_APP_COMMANDS: Final = frozenset({"open", "close", "stop", "my", "on", "off"})
ERROR_NOT_READY: Final = "not_ready"
ERROR_WRONG_BOX: Final = "wrong_box"
ERROR_WINDOW_CLOSED: Final = "window_closed"
ERROR_KIND_NOT_GRANTED: Final = "kind_not_granted"
ERROR_UNKNOWN_DEVICE: Final = "unknown_device"
ERROR_DEVICE_OFFLINE: Final = "device_offline"
ERROR_PARAMETER_NOT_EDITABLE: Final = "parameter_not_editable"
ERROR_INVALID_VALUE: Final = "invalid_value"
ERROR_VALUE_OUT_OF_RANGE: Final = "value_out_of_range"
ERROR_NOT_PAIRABLE: Final = "not_pairable"
ERROR_UNREADABLE_CODE: Final = "unreadable_code"
ERROR_BOX_UNREACHABLE: Final = "box_unreachable"
ERROR_BOX_ERROR: Final = "box_error"
# Plus the read-only reasons of parameters: rts_one_way, protocol_not_io,
# no_editable_parameter.

# Commands sent to the box.
COMMAND_REBOOT: Final = "reboot"
COMMAND_PAIR_REMOTE: Final = "pairOneWayController"
COMMAND_PAIRING_MODE: Final = "discover1WayController"
MAX_PAIR_TARGETS: Final = 32

# io products a one-way remote can be paired to.
PAIRABLE_UI_CLASSES: Final = MY_POSITION_UI_CLASSES | {
    "GarageDoor",
    "Gate",
    "Light",
    "OnOff",
}


class ActionRefused(Exception):
    """The action is refused (or failed) with an error code for ``action_result``."""

    def __init__(self, code: str) -> None:
        """Keep the code."""
        super().__init__(code)
        self.code = code


@dataclass(slots=True)
class Plan:
    """What to run on the box for an accepted action."""

    commands: list[tuple[str, str, list[Any]]] = field(default_factory=list)


# Fields of an action frame the audit log records as sent (the scanned code is not kept:
# only the remote address read from it).
DETAIL_KEYS: Final = ("device_url", "parameter", "value", "devices", "source", "remote_url")


def bounded(value: Any) -> Any:
    """What the audit log keeps of a field sent by the portal (never a whole frame's worth)."""
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, list):
        return [bounded(item) for item in value[:MAX_PAIR_TARGETS]]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return str(value)[:200]


def check(
    devices: Mapping[str, Device],
    payload: dict[str, Any],
    kind: str,
    pin: str,
    details: dict[str, Any],
) -> Plan:
    """Validate the action against the box (devices, parameters, values).

    ``details`` (what the audit log records) is completed as the checks go, so that a
    refused action is recorded with what it would have done.
    """
    if kind == KIND_PARAMETERS:
        return _check_parameter(devices, payload, pin, details)
    if kind == KIND_REBOOT:
        return Plan(commands=[(f"internal://{pin}/pod/0", COMMAND_REBOOT, [])])
    if kind == KIND_PAIR_REMOTE:
        return _check_pair_remote(devices, payload, pin, details)
    return _check_web_app(devices, payload, pin, details)


def _check_web_app(
    devices: Mapping[str, Device], payload: dict[str, Any], pin: str, details: dict[str, Any]
) -> Plan:
    """Opening the web app is only recorded; its commands run on the product they name."""
    if "command" not in payload or payload["command"] == WEB_APP_OPEN:
        return Plan()
    command = payload["command"]
    if command not in WEB_APP_COMMANDS:
        raise ActionRefused(ERROR_INVALID_ACTION)
    device = _device(devices, payload.get("device_url"), pin)
    details["device"] = device.label
    details["command"] = command
    if not device.available:
        raise ActionRefused(ERROR_DEVICE_OFFLINE)
    return Plan(commands=[(device.url, command, [])])


def _device(devices: Mapping[str, Device], url: Any, pin: str) -> Device:
    if not isinstance(url, str) or "://" not in url:
        raise ActionRefused(ERROR_INVALID_ACTION)
    if url.partition("://")[2].partition("/")[0] != pin:
        raise ActionRefused(ERROR_WRONG_BOX)
    device = devices.get(url)
    if device is None:
        raise ActionRefused(ERROR_UNKNOWN_DEVICE)
    return device


def _check_parameter(
    devices: Mapping[str, Device], payload: dict[str, Any], pin: str, details: dict[str, Any]
) -> Plan:
    url = payload.get("device_url")
    key = payload.get("parameter")
    value = payload.get("value")
    device = _device(devices, url, pin)
    details["device"] = device.label
    reason = read_only_reason(device)
    if reason is not None:
        raise ActionRefused(reason)
    parameter = editable_parameters(device).get(key) if isinstance(key, str) else None
    if parameter is None:
        raise ActionRefused(ERROR_PARAMETER_NOT_EDITABLE)
    checked = _check_value(parameter, value)
    details["value"] = checked
    details["previous"] = device.states.get(parameter.state)
    if not device.available:
        raise ActionRefused(ERROR_DEVICE_OFFLINE)
    return Plan(commands=[(device.url, parameter.command, [checked])])


def _check_value(parameter: Parameter, value: Any) -> int | str:
    if parameter.type == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ActionRefused(ERROR_INVALID_VALUE)
        if isinstance(value, float) and not value.is_integer():
            raise ActionRefused(ERROR_INVALID_VALUE)
        number = int(value)
        if (parameter.min is not None and number < parameter.min) or (
            parameter.max is not None and number > parameter.max
        ):
            raise ActionRefused(ERROR_VALUE_OUT_OF_RANGE)
        return number
    if not isinstance(value, str) or any(ord(char) < 32 for char in value):
        raise ActionRefused(ERROR_INVALID_VALUE)
    text = value.strip()
    if not text or (parameter.max_length is not None and len(text) > parameter.max_length):
        raise ActionRefused(ERROR_VALUE_OUT_OF_RANGE)
    return text


_ADDRESS = re.compile(r"^[0-9A-Fa-f]{6,8}$")


def parse_remote_code(code: str) -> str:
    """The io address (6 to 8 hex digits) of a remote from its scanned QR code (remote_code).

    Raises ActionRefused("unreadable_code") when the scan gives no single address.
    """
    try:
        return read_remote_code(code)
    except UnreadableCode as err:
        raise ActionRefused(ERROR_UNREADABLE_CODE) from err


def _check_pair_remote(
    devices: Mapping[str, Device], payload: dict[str, Any], pin: str, details: dict[str, Any]
) -> Plan:
    """Three steps of the add-remote wizard.

    - ``{"source": "customer"}`` without a remote: pairing mode on the box
      (``discover1WayController`` on the pod); the customer presses PROG on the remote, which
      then appears on the box;
    - ``{"source": "customer", "remote_url", "devices"}``: pair that remote (one of the box's)
      to the devices;
    - ``{"source": "installer", "code", "devices"}``: pair the remote whose QR code was scanned
      to the devices (``pairOneWayController`` with its address on each device).
    """
    source = payload.get("source", "installer" if "code" in payload else "customer")
    details["source"] = source
    urls = payload.get("devices")
    if urls is None and payload.get("device_url") is not None:
        urls = [payload["device_url"]]
    if source not in ("customer", "installer"):
        raise ActionRefused(ERROR_INVALID_ACTION)
    if source == "customer" and payload.get("remote_url") is None:
        return Plan(commands=[(f"internal://{pin}/pod/0", COMMAND_PAIRING_MODE, [])])
    if not isinstance(urls, list) or not urls or len(urls) > MAX_PAIR_TARGETS:
        raise ActionRefused(ERROR_INVALID_ACTION)
    targets: list[Device] = []
    for url in dict.fromkeys(urls):
        device = _device(devices, url, pin)
        if device.protocol != "io" or device.ui_class not in PAIRABLE_UI_CLASSES:
            raise ActionRefused(ERROR_NOT_PAIRABLE)
        targets.append(device)
    details["device_labels"] = [device.label for device in targets]
    if source == "installer":
        code = payload.get("code")
        if not isinstance(code, str):
            raise ActionRefused(ERROR_UNREADABLE_CODE)
        address = parse_remote_code(code)
    else:
        remote = _device(devices, payload.get("remote_url"), pin)
        address = remote.url.rpartition("/")[2]
        if (
            remote.protocol != "io"
            or remote.ui_class != "RemoteController"
            or not _ADDRESS.match(address)
        ):
            raise ActionRefused(ERROR_NOT_PAIRABLE)
    details["remote_address"] = address
    if any(not device.available for device in targets):
        raise ActionRefused(ERROR_DEVICE_OFFLINE)
    return Plan(commands=[(device.url, COMMAND_PAIR_REMOTE, [address]) for device in targets])
