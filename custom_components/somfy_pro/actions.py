"""Installer actions: checked in Home Assistant, executed on the box, recorded in the audit log.

Entry points for the portal channel, one per portal frame:

- ``async_handle_action(hass, entry, payload) -> dict``: an ``action`` frame; returns the
  ``action_result`` payload ``{"action_id", "ok", "error"?, "at"}`` to send back.
- ``async_handle_request_remote_service(hass, entry, payload)``: a ``request_remote_service``
  frame; raises the repair issue whose fix flow approves (``window`` frame "granted") or
  declines ("declined").
- ``async_handle_intervention_ended(hass, entry, payload)``: an ``intervention_ended`` frame;
  closes the window, fires ``somfy_pro_intervention_ended`` and shows a notification.

Every check is made here, on Home Assistant's clock and data, whatever the portal says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
import re
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir, translation
from homeassistant.util import dt as dt_util

from .audit import RECORD_ACTION, RECORD_INTERVENTION_ENDED
from .box_api import BoxConnectionError, BoxError
from .const import DOMAIN, LOGGER
from .portal_frames import MAX_ID_LENGTH
from .remote_code import UnreadableCode, read_remote_code
from .remote_service import (
    KIND_PAIR_REMOTE,
    KIND_PARAMETERS,
    KIND_REBOOT,
    KIND_WEB_APP,
    KINDS,
    MAX_HOURS,
    MY_POSITION_UI_CLASSES,
    Parameter,
    editable_parameters,
    linked_installer,
    read_only_reason,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from .box_api import Device
    from .coordinator import SomfyProConfigEntry

EVENT_INTERVENTION_ENDED: Final = "somfy_pro_intervention_ended"
REQUEST_ISSUE_PREFIX: Final = "remote_service_request_"

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
# Plus the read-only reasons of remote_service: rts_one_way, protocol_not_io,
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
class _Plan:
    """What to run on the box for an accepted action."""

    commands: list[tuple[str, str, list[Any]]] = field(default_factory=list)


# Fields of an action frame the audit log records as sent (the scanned code is not kept:
# only the remote address read from it).
_DETAIL_KEYS: Final = ("device_url", "parameter", "value", "devices", "source", "remote_url")


# -- action frames ------------------------------------------------------------------------


async def async_handle_action(
    hass: HomeAssistant, entry: SomfyProConfigEntry, payload: Any
) -> dict[str, Any]:
    """Check an installer's action, run it on the box, record it; return ``action_result``."""
    at = dt_util.utcnow()
    action_id = payload.get("action_id") if isinstance(payload, dict) else None
    if not isinstance(action_id, str):
        action_id = ""
    kind = payload.get("kind") if isinstance(payload, dict) else None
    details: dict[str, Any] = {}
    who: dict[str, Any] | None = None
    error: str | None = None
    try:
        if not action_id or not isinstance(payload, dict) or kind not in KINDS:
            raise ActionRefused(ERROR_INVALID_ACTION)
        if entry.state is not ConfigEntryState.LOADED:
            raise ActionRefused(ERROR_NOT_READY)
        details = {key: _bounded(payload[key]) for key in _DETAIL_KEYS if key in payload}
        pin = entry.unique_id or entry.runtime_data.coordinator.data.gateway.id
        if payload.get("pin", pin) != pin:
            raise ActionRefused(ERROR_WRONG_BOX)
        remote = entry.runtime_data.remote_service
        window = remote.current
        if window is None or not remote.is_linked_to(window, linked_installer(entry)):
            raise ActionRefused(ERROR_WINDOW_CLOSED)
        who = window.who()
        if not window.allows(str(kind)):
            raise ActionRefused(ERROR_KIND_NOT_GRANTED)
        plan = _check(entry, payload, str(kind), pin, details)
        await _async_run(entry, plan, window.company)
        # The window may have closed while the box was busy: the action already ran,
        # so it is recorded as done.
    except ActionRefused as err:
        error = err.code
    result: dict[str, Any] = {"action_id": action_id, "ok": error is None, "at": at.isoformat()}
    if error is not None:
        result["error"] = error
    if who is None:
        installer = linked_installer(entry)
        who = {
            "company": installer.company if installer else None,
            "company_id": installer.company_id if installer else None,
            "name": None,
        }
    if entry.state is ConfigEntryState.LOADED:
        entry.runtime_data.remote_service.audit.async_append(
            RECORD_ACTION,
            action_id=action_id[:200],
            kind=kind[:64] if isinstance(kind, str) else None,
            installer=who,
            **details,
            ok=error is None,
            error=error,
        )
    if error is None:
        LOGGER.info("Installer action %s (%s) done", action_id, kind)
    else:
        LOGGER.warning("Installer action %s (%s) refused: %s", action_id, kind, error)
    return result


def _bounded(value: Any) -> Any:
    """What the audit log keeps of a field sent by the portal (never a whole frame's worth)."""
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, list):
        return [_bounded(item) for item in value[:MAX_PAIR_TARGETS]]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return str(value)[:200]


def _check(
    entry: SomfyProConfigEntry,
    payload: dict[str, Any],
    kind: str,
    pin: str,
    details: dict[str, Any],
) -> _Plan:
    """Validate the action against the box (devices, parameters, values).

    ``details`` (what the audit log records) is completed as the checks go, so that a
    refused action is recorded with what it would have done.
    """
    if kind == KIND_PARAMETERS:
        return _check_parameter(entry, payload, pin, details)
    if kind == KIND_REBOOT:
        return _Plan(commands=[(f"internal://{pin}/pod/0", COMMAND_REBOOT, [])])
    if kind == KIND_PAIR_REMOTE:
        return _check_pair_remote(entry, payload, pin, details)
    return _check_web_app(entry, payload, pin, details)


def _check_web_app(
    entry: SomfyProConfigEntry, payload: dict[str, Any], pin: str, details: dict[str, Any]
) -> _Plan:
    """Opening the web app is only recorded; its commands run on the product they name."""
    if "command" not in payload or payload["command"] == WEB_APP_OPEN:
        return _Plan()
    command = payload["command"]
    if command not in WEB_APP_COMMANDS:
        raise ActionRefused(ERROR_INVALID_ACTION)
    device = _device(entry, payload.get("device_url"), pin)
    details["device"] = device.label
    details["command"] = command
    if not device.available:
        raise ActionRefused(ERROR_DEVICE_OFFLINE)
    return _Plan(commands=[(device.url, command, [])])


def _device(entry: SomfyProConfigEntry, url: Any, pin: str) -> Device:
    if not isinstance(url, str) or "://" not in url:
        raise ActionRefused(ERROR_INVALID_ACTION)
    if url.partition("://")[2].partition("/")[0] != pin:
        raise ActionRefused(ERROR_WRONG_BOX)
    device = entry.runtime_data.coordinator.data.devices.get(url)
    if device is None:
        raise ActionRefused(ERROR_UNKNOWN_DEVICE)
    return device


def _check_parameter(
    entry: SomfyProConfigEntry, payload: dict[str, Any], pin: str, details: dict[str, Any]
) -> _Plan:
    url = payload.get("device_url")
    key = payload.get("parameter")
    value = payload.get("value")
    device = _device(entry, url, pin)
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
    return _Plan(commands=[(device.url, parameter.command, [checked])])


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
    entry: SomfyProConfigEntry, payload: dict[str, Any], pin: str, details: dict[str, Any]
) -> _Plan:
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
        return _Plan(commands=[(f"internal://{pin}/pod/0", COMMAND_PAIRING_MODE, [])])
    if not isinstance(urls, list) or not urls or len(urls) > MAX_PAIR_TARGETS:
        raise ActionRefused(ERROR_INVALID_ACTION)
    devices: list[Device] = []
    for url in dict.fromkeys(urls):
        device = _device(entry, url, pin)
        if device.protocol != "io" or device.ui_class not in PAIRABLE_UI_CLASSES:
            raise ActionRefused(ERROR_NOT_PAIRABLE)
        devices.append(device)
    details["device_labels"] = [device.label for device in devices]
    if source == "installer":
        code = payload.get("code")
        if not isinstance(code, str):
            raise ActionRefused(ERROR_UNREADABLE_CODE)
        address = parse_remote_code(code)
    else:
        remote = _device(entry, payload.get("remote_url"), pin)
        address = remote.url.rpartition("/")[2]
        if (
            remote.protocol != "io"
            or remote.ui_class != "RemoteController"
            or not _ADDRESS.match(address)
        ):
            raise ActionRefused(ERROR_NOT_PAIRABLE)
    details["remote_address"] = address
    if any(not device.available for device in devices):
        raise ActionRefused(ERROR_DEVICE_OFFLINE)
    return _Plan(commands=[(device.url, COMMAND_PAIR_REMOTE, [address]) for device in devices])


async def _async_run(entry: SomfyProConfigEntry, plan: _Plan, company: str) -> None:
    client = entry.runtime_data.client
    label = f"Somfy Pro installer ({company})"
    for url, command, params in plan.commands:
        try:
            await client.execute(url, command, *params, label=label)
        except BoxConnectionError as err:
            LOGGER.warning("The box is unreachable for %s: %s", command, err)
            raise ActionRefused(ERROR_BOX_UNREACHABLE) from err
        except BoxError as err:
            LOGGER.warning("The box refused %s on %s: %s", command, url, err)
            raise ActionRefused(ERROR_BOX_ERROR) from err


# -- request_remote_service frames ----------------------------------------------------------


def request_issue_id(entry_id: str) -> str:
    """The repair issue of the entry's pending remote-service request (one at a time)."""
    return f"{REQUEST_ISSUE_PREFIX}{entry_id}"


@callback
def async_handle_request_remote_service(
    hass: HomeAssistant, entry: SomfyProConfigEntry, payload: Any
) -> None:
    """Raise the repair issue asking the homeowner to approve or decline the request.

    ``payload``: ``{"request_id", "installer", "kinds", "hours"}``. Raises ValueError when it
    is malformed (the channel answers with an ``error`` frame).
    """
    request_id = payload.get("request_id") if isinstance(payload, dict) else None
    # The id comes back to the portal in the ``window`` frame, which takes 36 characters.
    if not isinstance(request_id, str) or not 1 <= len(request_id) <= MAX_ID_LENGTH:
        raise ValueError("request_remote_service needs a request_id")
    kinds = payload.get("kinds", list(KINDS))
    if not isinstance(kinds, list) or not kinds or any(kind not in KINDS for kind in kinds):
        raise ValueError("unknown or missing kinds")
    hours = payload.get("hours", MAX_HOURS)
    if (
        isinstance(hours, bool)
        or not isinstance(hours, (int, float))
        or not math.isfinite(hours)
        or hours <= 0
    ):
        raise ValueError("hours must be a positive number")
    installer = payload.get("installer")
    link = linked_installer(entry)
    company = link.company if link else ""
    ordered = [kind for kind in KINDS if kind in kinds]
    ir.async_create_issue(
        hass,
        DOMAIN,
        request_issue_id(entry.entry_id),
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="remote_service_request",
        translation_placeholders={
            "title": entry.title,
            "company": company,
            "installer": str(installer or company),
            "hours": f"{min(float(hours), MAX_HOURS):g}",
            "kinds": ", ".join(ordered),
        },
        data={
            "entry_id": entry.entry_id,
            "request_id": payload["request_id"],
            "installer": None if installer is None else str(installer),
            "kinds": ",".join(ordered),
            "hours": min(float(hours), MAX_HOURS),
        },
    )


# -- intervention_ended frames ---------------------------------------------------------------


async def async_handle_intervention_ended(
    hass: HomeAssistant, entry: SomfyProConfigEntry, payload: Any
) -> None:
    """Close the window, record the end, fire the event and notify the homeowner."""
    payload = payload if isinstance(payload, dict) else {}
    comment = payload.get("comment")
    comment = comment.strip() if isinstance(comment, str) else ""
    portal_actions = payload.get("actions")
    remote = entry.runtime_data.remote_service
    window = remote.current
    link = linked_installer(entry)
    who = (
        window.who()
        if window is not None
        else {"company": link.company if link else None, "company_id": None, "name": None}
    )
    since = window.granted_at.isoformat() if window is not None else None
    done = [
        record
        for record in remote.audit.records
        if record.get("type") == RECORD_ACTION
        and record.get("ok")
        and (since is None or str(record.get("time", "")) >= since)
    ]
    remote.async_end()
    remote.audit.async_append(
        RECORD_INTERVENTION_ENDED,
        installer=who,
        comment=comment,
        portal_actions=portal_actions if isinstance(portal_actions, list) else [],
        actions=[record["seq"] for record in done],
    )
    strings = await translation.async_get_translations(
        hass, hass.config.language, "exceptions", {DOMAIN}
    )

    def text(key: str, **values: Any) -> str:
        template = strings.get(f"component.{DOMAIN}.exceptions.{key}.message", key)
        return template.format(**values)

    summary = [_summary_line(record, text) for record in done]
    hass.bus.async_fire(
        EVENT_INTERVENTION_ENDED,
        {
            "config_entry_id": entry.entry_id,
            "company": who.get("company"),
            "installer": who.get("name"),
            "comment": comment,
            "actions": summary,
        },
    )
    company = who.get("company") or ""
    persistent_notification.async_create(
        hass,
        text(
            "intervention_ended_message",
            company=company,
            title=entry.title,
            comment=comment,
            actions="\n".join(f"- {line}" for line in summary) or text("intervention_no_action"),
        ),
        title=text("intervention_ended_title", company=company),
        notification_id=f"{DOMAIN}_intervention_{entry.entry_id}",
    )


def _summary_line(record: dict[str, Any], text: Callable[..., str]) -> str:
    """One action, for the homeowner, in their language: time and what was done."""
    time = dt_util.parse_datetime(str(record.get("time", "")))
    when = dt_util.as_local(time).strftime("%H:%M") if time else ""
    kind = record.get("kind")
    device = record.get("device")
    if kind == KIND_PARAMETERS:
        return text(
            "action_line_parameters",
            time=when,
            device=device,
            parameter=text(f"parameter_{record.get('parameter')}"),
            value=record.get("value"),
        )
    if kind == KIND_PAIR_REMOTE and record.get("remote_address") is None:
        return text("action_line_pairing_mode", time=when)
    if kind == KIND_PAIR_REMOTE:
        return text(
            "action_line_pair_remote",
            time=when,
            remote=record.get("remote_address"),
            devices=", ".join(str(label) for label in record.get("device_labels", [])),
        )
    if kind == KIND_WEB_APP and record.get("command"):
        return text(
            "action_line_web_app_command",
            time=when,
            device=device,
            command=text(f"command_{record.get('command')}"),
        )
    if kind == KIND_WEB_APP:
        return text("action_line_web_app", time=when)
    return text("action_line_reboot", time=when)


# -- the portal channel's entry point ------------------------------------------------------


async def async_handle_portal_frame(
    hass: HomeAssistant, entry: SomfyProConfigEntry, frame_type: str, payload: Any
) -> dict[str, Any] | None:
    """Handle a remote-service frame of the portal; return the ``action_result`` to post.

    ``action`` -> the ``action_result`` payload; ``request_remote_service`` -> the repair issue
    (None); ``intervention_ended`` -> window closed, event and notification (None). Raises
    ValueError for a malformed request or an unknown type (answered with an ``error`` frame).
    """
    if frame_type == "action":
        return await async_handle_action(hass, entry, payload)
    if frame_type == "request_remote_service":
        async_handle_request_remote_service(hass, entry, payload)
        return None
    if frame_type == "intervention_ended":
        await async_handle_intervention_ended(hass, entry, payload)
        return None
    raise ValueError(f"not a remote-service frame: {frame_type}")
