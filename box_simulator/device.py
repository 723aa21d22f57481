"""A product paired with the simulated box, and how the box describes it."""

from __future__ import annotations

from dataclasses import dataclass, field
import time
from typing import TYPE_CHECKING, Any
import uuid

if TYPE_CHECKING:
    from .scenario import Profile, StateValue


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


def type_of_value(value: StateValue) -> int:
    """The Overkiz type code of a state value (for a state a product does not define)."""
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
