"""Scenario files: the gateway and its devices, built from the device profiles."""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any

from .replay import is_dump, setup_from_dump

if TYPE_CHECKING:
    from .values import StateValue

SCENARIO_DIR = Path(__file__).parent / "scenarios"
PIN_RE = re.compile(r"^\d{4}-\d{4}-\d{4}$")


@dataclass(frozen=True)
class Editable:
    """An io parameter an installer may change, and the command that sets it."""

    command: str
    state: str
    type: str
    min: int | None = None
    max: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Profile:
    """What a kind of product looks like on a real box."""

    name: str
    protocol: str
    controllable_name: str
    ui_class: str
    widget: str
    type: int
    commands: dict[str, int]
    states: dict[str, tuple[int, StateValue]]
    attributes: dict[str, tuple[int, StateValue]]
    editable: dict[str, Editable] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceSpec:
    """One paired product of a scenario."""

    profile: Profile
    address: str
    label: str
    place: str | None = None
    states: dict[str, StateValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A gateway and its devices."""

    pin: str
    firmware: str
    label: str
    cloud_fields: dict[str, Any] | None
    devices: list[DeviceSpec]
    # A real box's ``GET setup`` answer, served verbatim (see :mod:`.replay`).
    setup: dict[str, Any] | None = None


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """Read the device profiles."""
    raw = _read(path or SCENARIO_DIR / "profiles.json")
    profiles: dict[str, Profile] = {}
    for name, item in raw.items():
        if name.startswith("_"):
            continue
        profiles[name] = Profile(
            name=name,
            protocol=item["protocol"],
            controllable_name=item["controllableName"],
            ui_class=item["uiClass"],
            widget=item["widget"],
            type=item["type"],
            commands=dict(item["commands"]),
            states={k: (v[0], v[1]) for k, v in item["states"].items()},
            attributes={k: (v[0], v[1]) for k, v in item["attributes"].items()},
            editable={k: Editable(**v) for k, v in item.get("editable", {}).items()},
        )
    return profiles


def load_scenario(name_or_path: str, profiles: dict[str, Profile] | None = None) -> Scenario:
    """Load a scenario by name (``home``, ``large``) or from a JSON file path.

    The file is a scenario built from profiles, or a real box's data: its ``GET setup``
    answer or this integration's diagnostics download, replayed verbatim.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.json"
    if not path.is_file():
        raise ValueError(f"unknown scenario: {name_or_path}")
    try:
        raw = _read(path)
    except ValueError as err:
        raise ValueError(f"{path} is not JSON: {err}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    if is_dump(raw):
        return _replayed(setup_from_dump(raw))
    profiles = profiles or load_profiles()
    gateway = raw["gateway"]
    if not PIN_RE.match(gateway["pin"]):
        raise ValueError(f"gateway PIN must look like 1234-5678-9012, got {gateway['pin']!r}")
    devices: list[DeviceSpec] = []
    for item in raw["devices"]:
        profile = profiles[item["profile"]]
        count = int(item.get("count", 1))
        for n in range(1, count + 1):
            address = item["address"]
            if count > 1:
                address = str(int(address) + n - 1)
            devices.append(
                DeviceSpec(
                    profile=profile,
                    address=address,
                    label=item["label"].format(n=n),
                    place=item.get("place"),
                    states=dict(item.get("states", {})),
                )
            )
    return Scenario(
        pin=gateway["pin"],
        firmware=gateway["firmware"],
        label=gateway.get("label", "TaHoma"),
        cloud_fields=gateway.get("cloud_fields"),
        devices=devices,
    )


def _replayed(setup: dict[str, Any]) -> Scenario:
    gateway = setup["gateways"][0]
    connectivity = gateway.get("connectivity")
    firmware = connectivity.get("protocolVersion") if isinstance(connectivity, dict) else None
    return Scenario(
        pin=gateway["gatewayId"],
        firmware=str(firmware or ""),
        label=str(gateway.get("label") or "TaHoma"),
        cloud_fields=None,
        devices=[],
        setup=setup,
    )
