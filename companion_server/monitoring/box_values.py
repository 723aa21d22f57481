"""What the pages call the values a box reports: product types, defects, battery, radio.

Home Assistant forwards the box's own codes (``RollerShutter``, ``lowBattery``, ``normal``);
every one the portal can receive has a message id here, so that it reaches the page in the
user's language. A code a newer box invents is shown in a readable form ("Solar panel" for
``SolarPanel``), never as the raw key of one that has a translation.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

import jinja2

if TYPE_CHECKING:
    from companion_server.models import Device

from companion_server.i18n import N_

# Every ``uiClass`` of the Overkiz API (pyoverkiz's ``UIClass``; a contract test keeps the
# two equal), ``unknown`` being what pyoverkiz reports for a class it does not know.
UI_CLASS_LABELS: Final[dict[str, str]] = {
    "AdjustableSlatsRollerShutter": N_("Roller shutter with adjustable slats"),
    "AirSensor": N_("Air sensor"),
    "Alarm": N_("Alarm"),
    "Awning": N_("Awning"),
    "Ballast": N_("Ballast"),
    "Camera": N_("Camera"),
    "CarbonDioxideSensor": N_("Carbon dioxide sensor"),
    "CarButtonSensor": N_("Car button sensor"),
    "CircuitBreaker": N_("Circuit breaker"),
    "ConfigurationComponent": N_("Configuration component"),
    "ConsumptionSensor": N_("Consumption sensor"),
    "ContactSensor": N_("Contact sensor"),
    "Curtain": N_("Curtain"),
    "Dock": N_("Dock"),
    "DoorLock": N_("Door lock"),
    "ElectricitySensor": N_("Electricity sensor"),
    "EvoHome": N_("Evohome heating"),
    "ExteriorHeatingSystem": N_("Exterior heating system"),
    "ExteriorScreen": N_("Exterior screen"),
    "ExteriorVenetianBlind": N_("Exterior venetian blind"),
    "GarageDoor": N_("Garage door"),
    "GasSensor": N_("Gas sensor"),
    "Gate": N_("Gate"),
    "Generic": N_("Generic product"),
    "GenericSensor": N_("Generic sensor"),
    "GroupConfiguration": N_("Group configuration"),
    "HeatPumpSystem": N_("Heat pump"),
    "HeatingSystem": N_("Heating system"),
    "HitachiHeatingSystem": N_("Hitachi heating system"),
    "HumiditySensor": N_("Humidity sensor"),
    "IRBlasterController": N_("Infrared controller"),
    "IntrusionSensor": N_("Intrusion sensor"),
    "Light": N_("Light"),
    "LightSensor": N_("Light sensor"),
    "MusicPlayer": N_("Music player"),
    "NoiseSensor": N_("Noise sensor"),
    "NetworkComponent": N_("Network component"),
    "OccupancySensor": N_("Occupancy sensor"),
    "OnOff": N_("On/off switch"),
    "Oven": N_("Oven"),
    "Pergola": N_("Pergola"),
    "Pod": N_("Box"),
    "ProtocolGateway": N_("Protocol gateway"),
    "RainSensor": N_("Rain sensor"),
    "RemoteController": N_("Remote control"),
    "RollerShutter": N_("Roller shutter"),
    "Screen": N_("Screen"),
    "Shutter": N_("Shutter"),
    "Siren": N_("Siren"),
    "SmokeSensor": N_("Smoke sensor"),
    "SunIntensitySensor": N_("Sun intensity sensor"),
    "SunSensor": N_("Sun sensor"),
    "SwimmingPool": N_("Swimming pool"),
    "SwingingShutter": N_("Swinging shutter"),
    "TemperatureSensor": N_("Temperature sensor"),
    "ThermalEnergySensor": N_("Thermal energy sensor"),
    "ThirdPartyGateway": N_("Third-party gateway"),
    "VenetianBlind": N_("Venetian blind"),
    "VentilationSystem": N_("Ventilation system"),
    "WashingMachine": N_("Washing machine"),
    "WaterHeatingSystem": N_("Water heater"),
    "WaterSensor": N_("Water sensor"),
    "WeatherSensor": N_("Weather sensor"),
    "Wifi": N_("Wi-Fi"),
    "WindSensor": N_("Wind sensor"),
    "Window": N_("Window"),
    "WindowHandle": N_("Window handle"),
    "unknown": N_("Unknown product type"),
}

# ``core:SensorDefectState``.
DEFECT_LABELS: Final[dict[str, str]] = {
    "noDefect": N_("No defect"),
    "lowBattery": N_("Low battery"),
    "maintenanceRequired": N_("Maintenance required"),
    "dead": N_("Not responding"),
}
# ``core:BatteryState`` (a percentage is shown as such).
BATTERY_LABELS: Final[dict[str, str]] = {
    "full": N_("Full"),
    "normal": N_("Normal"),
    "low": N_("Low"),
    "verylow": N_("Very low"),
}
# ``core:DiscreteRSSILevelState``.
RADIO_LABELS: Final[dict[str, str]] = {
    "good": N_("Good"),
    "normal": N_("Normal"),
    "low": N_("Low"),
    "verylow": N_("Very low"),
}
# The tables by the name templates use (``box("ui_class", ...)``). Protocols (io, rts...) are
# not among them: they are names of radio standards, the same in every language.
TABLES: Final[dict[str, dict[str, str]]] = {
    "ui_class": UI_CLASS_LABELS,
    "defect": DEFECT_LABELS,
    "battery": BATTERY_LABELS,
    "radio": RADIO_LABELS,
}
LOW_BATTERY: Final = frozenset({"low", "verylow"})
WEAK_RADIO_LEVELS: Final = frozenset({"low", "verylow"})
# Below this radio level (percent) a product is reported as weakly received.
WEAK_RADIO_PERCENT: Final = 30
LOW_BATTERY_PERCENT: Final = 20

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")


def readable(code: str) -> str:
    """A code nobody translated yet, as words: ``SolarPanel`` -> ``Solar panel``."""
    words = _WORDS.findall(code)
    if not words:
        return code
    first, *rest = words
    return " ".join(
        [first[:1].upper() + first[1:], *(w if w.isupper() else w.lower() for w in rest)]
    )


def box_label(table: str, code: str | None) -> tuple[str, bool]:
    """The message id of a box value and whether it is one (else a readable fallback)."""
    if not code:
        return "", False
    known = TABLES[table].get(code)
    if known is not None:
        return known, True
    return readable(code), False


def battery_percent(value: str | None) -> int | None:
    """The battery level when Home Assistant sent a percentage (stored as text)."""
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


# What makes a product need attention, worst first (the Devices tab lists them first).
PROBLEMS: Final = ("offline", "defect", "low_battery", "weak_radio")
PROBLEM_LABELS: Final[dict[str, str]] = {
    "offline": N_("Offline"),
    "defect": N_("Defect"),
    "low_battery": N_("Low battery"),
    "weak_radio": N_("Weak radio"),
}


def device_problems(device: Device) -> list[str]:
    """What is wrong with a product (codes of :data:`PROBLEMS`, worst first)."""
    found: list[str] = []
    if device.online is False:
        found.append("offline")
    if device.defect and device.defect not in ("noDefect", "lowBattery"):
        found.append("defect")
    percent = battery_percent(device.battery)
    if (
        device.defect == "lowBattery"
        or device.battery in LOW_BATTERY
        or (percent is not None and percent <= LOW_BATTERY_PERCENT)
    ):
        found.append("low_battery")
    if (device.rssi is not None and device.rssi < WEAK_RADIO_PERCENT) or (
        device.rssi is None and device.rssi_level in WEAK_RADIO_LEVELS
    ):
        found.append("weak_radio")
    return found


def problems_first(devices: list[Device]) -> list[Device]:
    """Products needing attention first (the worst problem first), then by name."""

    def key(device: Device) -> tuple[int, str, int]:
        problems = device_problems(device)
        rank = PROBLEMS.index(problems[0]) if problems else len(PROBLEMS)
        return rank, device.label.casefold(), device.id

    return sorted(devices, key=key)


@jinja2.pass_context
def box_text(context: Any, table: str, code: str | None) -> str:
    """Template global: ``{{ box("ui_class", device.ui_class) }}`` in the page's language."""
    if table == "battery" and (percent := battery_percent(code)) is not None:
        return f"{percent} %"
    label, known = box_label(table, code)
    return str(context["_"](label)) if known else label
