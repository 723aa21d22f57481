"""A product paired with the simulated box, and how the box describes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
import uuid

from .values import now_ms

if TYPE_CHECKING:
    from .scenario import Profile
    from .values import StateValue


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
    # A replayed device: every field as the dump has it (states and the rest kept live).
    raw: dict[str, Any] | None = None

    def state(self, name: str) -> StateValue | None:
        """Return one state's value, or None."""
        entry = self.states.get(name)
        return None if entry is None else entry[1]

    def states_json(self) -> list[dict[str, Any]]:
        """The states as the box lists them."""
        return [state_json(name, t, value) for name, (t, value) in self.states.items()]

    def to_json(self, setup_oid: str) -> dict[str, Any]:
        """Serialise as ``setup/devices`` does."""
        if self.raw is not None:
            return self._replayed_json()
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
            "states": self.states_json(),
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

    def _replayed_json(self) -> dict[str, Any]:
        """The dump's fields, with what may have changed since (label, availability, states)."""
        assert self.raw is not None
        device = dict(self.raw)
        if "label" in device or self.label:
            device["label"] = self.label
        if "available" in device or not self.available:
            device["available"] = self.available
        if "states" in device or self.states:
            device["states"] = self.states_json()
        return device


def state_json(name: str, state_type: int, value: StateValue) -> dict[str, Any]:
    """One state as the box sends it: a state without value (type 0) has no ``value``."""
    if value is None:
        return {"name": name, "type": state_type}
    return {"name": name, "type": state_type, "value": value}


def _definition_type(state_type: int) -> str:
    return {1: "DiscreteState", 2: "ContinuousState", 6: "DiscreteState"}.get(
        state_type, "DataState"
    )
