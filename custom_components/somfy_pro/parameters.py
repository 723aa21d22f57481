"""Editable io parameters: what an installer may change on a product, and how.

Read by the monitoring snapshots (the portal's pencil and its editor) and by the installer
actions that check and set a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # pragma: no cover
    from .box_api import Device

STATE_NAME: Final = "core:NameState"
STATE_MEMORIZED_1: Final = "core:Memorized1PositionState"

# Why a product's parameters cannot be changed remotely.
READ_ONLY_RTS: Final = "rts_one_way"
READ_ONLY_PROTOCOL: Final = "protocol_not_io"
READ_ONLY_NONE: Final = "no_editable_parameter"


@dataclass(frozen=True, slots=True)
class Parameter:
    """An io parameter an installer may change, the command that sets it and its range."""

    key: str
    command: str
    state: str
    type: str  # "int" or "string"
    min: int | None = None
    max: int | None = None
    max_length: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able description (for the portal's pencil and its editor)."""
        described: dict[str, Any] = {"type": self.type}
        if self.type == "int":
            described |= {"min": self.min, "max": self.max}
        else:
            described["max_length"] = self.max_length
        return described


PARAMETER_LABEL: Final = Parameter("label", "setName", STATE_NAME, "string", max_length=64)
PARAMETER_MY_POSITION: Final = Parameter(
    "my_position", "setMemorized1Position", STATE_MEMORIZED_1, "int", min=0, max=100
)
# Every parameter an installer may ever change (the homeowner's summary names each one).
PARAMETERS: Final = (PARAMETER_LABEL, PARAMETER_MY_POSITION)
# io products with a "my" (favourite) position the installer may set.
MY_POSITION_UI_CLASSES: Final = frozenset(
    {
        "Awning",
        "Curtain",
        "ExteriorScreen",
        "ExteriorVenetianBlind",
        "Pergola",
        "RollerShutter",
        "Screen",
        "Shutter",
        "SwingingShutter",
        "VenetianBlind",
        "Window",
    }
)
# io products that are not real products on the box (the io stack, the box's own parts).
_NOT_PRODUCTS: Final = frozenset({"IOStack", "Pod", "ProtocolGateway"})


def editable_parameters(device: Device) -> dict[str, Parameter]:
    """The parameters of a product an installer may change remotely (io products only)."""
    if device.protocol != "io" or device.ui_class in _NOT_PRODUCTS:
        return {}
    parameters = {PARAMETER_LABEL.key: PARAMETER_LABEL}
    if device.ui_class in MY_POSITION_UI_CLASSES and STATE_MEMORIZED_1 in device.states:
        parameters[PARAMETER_MY_POSITION.key] = PARAMETER_MY_POSITION
    return parameters


def read_only_reason(device: Device) -> str | None:
    """Why the product has no editable parameter (None when it has some)."""
    if device.protocol == "rts":
        return READ_ONLY_RTS
    if device.protocol != "io":
        return READ_ONLY_PROTOCOL
    if not editable_parameters(device):
        return READ_ONLY_NONE
    return None


def describe_editable(device: Device) -> dict[str, Any]:
    """What the portal shows for a product: editable parameters with values, or the reason.

    ``{"parameters": {key: {"type", "min"/"max" or "max_length", "value"}},
    "read_only_reason": None | "rts_one_way" | "protocol_not_io" | "no_editable_parameter"}``
    """
    parameters = {
        key: {**parameter.as_dict(), "value": device.states.get(parameter.state)}
        for key, parameter in editable_parameters(device).items()
    }
    if "label" in parameters and parameters["label"]["value"] is None:
        parameters["label"]["value"] = device.label
    return {"parameters": parameters, "read_only_reason": read_only_reason(device)}
