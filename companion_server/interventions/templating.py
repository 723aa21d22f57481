"""What the remote-service templates call: labels, what a product allows, fresh action ids.

Every page of an installation gets these (``installation_tabs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
import uuid

from companion_server.interventions.rules import (
    KIND_LABELS,
    PARAMETER_LABELS,
    editable,
    reason_label,
)

if TYPE_CHECKING:
    from companion_server.models import Device


def kind_label(kind: str) -> str:
    """The message id of an action kind."""
    return KIND_LABELS.get(kind, kind)


def parameter_label(key: str) -> str:
    """The message id of a parameter."""
    return PARAMETER_LABELS.get(key, key)


def new_action_id() -> str:
    """A fresh action id for a form (sent back once; a replay is refused)."""
    return str(uuid.uuid4())


def commands_for(device: Device) -> list[str]:
    """The live control page's buttons for a product."""
    ui_class = device.ui_class or ""
    if any(
        word in ui_class
        for word in (
            "Shutter",
            "Blind",
            "Screen",
            "Awning",
            "Curtain",
            "Pergola",
            "Window",
            "Gate",
            "Door",
        )
    ) and ui_class not in ("ContactSensor",):
        return ["open", "stop", "close", "my"] if device.protocol in ("io", "rts") else []
    if "Light" in ui_class or "OnOff" in ui_class or "Plug" in ui_class:
        return ["on", "off"]
    return []


# Under these names in every installation page's context.
HELPERS: dict[str, Any] = {
    "kind_label": kind_label,
    "parameter_label": parameter_label,
    "reason_label": reason_label,
    "editable": editable,
    "fresh_action_id": new_action_id,
}
