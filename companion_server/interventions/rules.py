"""Remote service (P13-P23): the kinds of action, their limits, and what each product allows.

The homeowner's Home Assistant checks every action again with the same rules; the contract
tests keep both sides' tables equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
import json
from typing import TYPE_CHECKING, Any, Final

from companion_server.i18n import N_

if TYPE_CHECKING:
    from companion_server.models import Device

KINDS: Final = ("parameters", "reboot", "pair_remote", "web_app")
KIND_LABELS: Final = {
    "parameters": N_("Change io parameters"),
    "reboot": N_("Reboot the box"),
    "pair_remote": N_("Add a remote control"),
    "web_app": N_("Open the customer's web app"),
}
PARAMETER_LABELS: Final = {"label": N_("Name"), "my_position": N_('"My" position (%)')}
READ_ONLY_REASONS: Final = {
    "rts_one_way": N_(
        "RTS product: one-way radio, its parameters cannot be read or changed remotely."
    ),
    "protocol_not_io": N_("Only io products can be changed remotely."),
    "no_editable_parameter": N_("This product has no parameter that can be changed remotely."),
}
# Commands of the live control page, by what the product is.
WEB_APP_COMMANDS: Final = ("open", "close", "stop", "my", "on", "off")
MAX_HOURS: Final = 8
MAX_COMMENT: Final = 2000
MAX_PAIR_TARGETS: Final = 32
# io products a one-way remote can be paired to: Home Assistant's list (not a lock, a
# window handle or a plug, whatever their names contain).
PAIRABLE_UI_CLASSES: Final = frozenset(
    {
        "Awning",
        "Curtain",
        "ExteriorScreen",
        "ExteriorVenetianBlind",
        "GarageDoor",
        "Gate",
        "Light",
        "OnOff",
        "Pergola",
        "RollerShutter",
        "Screen",
        "Shutter",
        "SwingingShutter",
        "VenetianBlind",
        "Window",
    }
)
# A live command of the web app not delivered within this is dropped (it ends ``expired``).
LIVE_COMMAND_TTL: Final = timedelta(seconds=60)
OPEN: Final = "granted"
# Ends of a granted window that Home Assistant reports.
CLOSED: Final = ("revoked", "expired")
NO_WINDOW: Final = N_(
    "No remote-service window is open: the customer has not granted one, or it has ended."
)


@dataclass(slots=True)
class Editable:
    """A product's editable parameters (from Home Assistant's ``editable`` field)."""

    parameters: dict[str, dict[str, Any]]
    reason: str | None


def editable(device: Device) -> Editable:
    """What may be changed on ``device``, or why nothing (io products only, P15)."""
    data: Any = None
    if device.editable:
        try:
            data = json.loads(device.editable)
        except ValueError:
            data = None
    parameters: dict[str, dict[str, Any]] = {}
    reason: str | None = None
    if isinstance(data, dict):
        raw = data.get("parameters")
        if isinstance(raw, dict):
            parameters = {
                str(k): v
                for k, v in raw.items()
                if isinstance(v, dict) and v.get("type") in ("int", "string")
            }
        given = data.get("read_only_reason")
        reason = given if isinstance(given, str) else None
    if device.protocol != "io":
        parameters = {}
        reason = "rts_one_way" if device.protocol == "rts" else "protocol_not_io"
    if not parameters and reason is None:
        reason = "no_editable_parameter"
    return Editable(parameters, reason)


def reason_label(reason: str | None) -> str:
    """The message id of a read-only reason."""
    return READ_ONLY_REASONS.get(reason or "", READ_ONLY_REASONS["no_editable_parameter"])


def pairable(device: Device) -> bool:
    """A product a remote control can drive: an io product that moves or switches."""
    return device.protocol == "io" and device.ui_class in PAIRABLE_UI_CLASSES
