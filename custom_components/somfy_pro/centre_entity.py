"""Entities of professional monitoring, on the box's device: consent, configuration, case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import BinarySensorEntity, BinarySensorEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory

from . import centre_values as cv
from .portal_entity import SomfyProPortalEntity

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from .centre import MonitoringCentre
    from .models import SomfyProConfigEntry


def _case(centre: MonitoringCentre) -> dict[str, Any]:
    return centre.case or {}


def _open_case(centre: MonitoringCentre) -> dict[str, Any]:
    case = _case(centre)
    return case if case.get("status") == "open" else {}


@dataclass(frozen=True, kw_only=True)
class CentreSensorDescription(SensorEntityDescription):
    """A sensor of the centre: its value, and what else it says."""

    value_fn: Callable[[MonitoringCentre], str]
    attributes_fn: Callable[[MonitoringCentre], dict[str, Any]] = lambda _centre: {}


@dataclass(frozen=True, kw_only=True)
class CentreBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor of the centre."""

    is_on_fn: Callable[[MonitoringCentre], bool]


SENSORS: tuple[CentreSensorDescription, ...] = (
    CentreSensorDescription(
        key="monitoring_configuration",
        translation_key="monitoring_configuration",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=list(cv.CONFIG_STATES),
        value_fn=lambda centre: centre.state,
        attributes_fn=lambda centre: {
            "missing": cv.missing(centre.config) if centre.subscribed else []
        },
    ),
    CentreSensorDescription(
        key="monitoring_case",
        translation_key="monitoring_case",
        device_class=SensorDeviceClass.ENUM,
        options=[cv.CASE_NONE, *cv.PHASES],
        value_fn=lambda centre: str(_case(centre).get("phase") or cv.CASE_NONE),
        attributes_fn=lambda centre: {
            key: _case(centre).get(key)
            for key in ("case_id", "kind", "round", "outcome", "last_action", "deadline")
        },
    ),
    CentreSensorDescription(
        key="monitoring_reached",
        translation_key="monitoring_reached",
        device_class=SensorDeviceClass.ENUM,
        options=[cv.CASE_NONE, *cv.REACHED],
        value_fn=lambda centre: str(_open_case(centre).get("reached") or cv.CASE_NONE),
    ),
)

BINARY_SENSORS: tuple[CentreBinarySensorDescription, ...] = (
    # The centre's own consent, shown like the installer's monitoring consent.
    CentreBinarySensorDescription(
        key="monitoring_centre",
        translation_key="monitoring_centre",
        is_on_fn=lambda centre: centre.subscribed,
    ),
    CentreBinarySensorDescription(
        key="monitoring_guard_dispatched",
        translation_key="monitoring_guard_dispatched",
        is_on_fn=lambda centre: _open_case(centre).get("guard") == "dispatched",
    ),
)


class SomfyProCentreSensor(SomfyProPortalEntity, SensorEntity):
    """A sensor of professional monitoring."""

    entity_description: CentreSensorDescription

    def __init__(self, entry: SomfyProConfigEntry, description: CentreSensorDescription) -> None:
        """Attach to the box's device."""
        super().__init__(entry, description)
        self.centre = entry.runtime_data.centre

    @property
    def native_value(self) -> str:
        """The value its description reads."""
        return self.entity_description.value_fn(self.centre)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """What else it says."""
        return self.entity_description.attributes_fn(self.centre)


class SomfyProCentreBinarySensor(SomfyProPortalEntity, BinarySensorEntity):
    """A binary sensor of professional monitoring."""

    entity_description: CentreBinarySensorDescription

    def __init__(
        self, entry: SomfyProConfigEntry, description: CentreBinarySensorDescription
    ) -> None:
        """Attach to the box's device."""
        super().__init__(entry, description)
        self.centre = entry.runtime_data.centre

    @property
    def is_on(self) -> bool:
        """What its description reads."""
        return self.entity_description.is_on_fn(self.centre)


def centre_sensors(entry: SomfyProConfigEntry) -> list[SensorEntity]:
    """Sensors of professional monitoring."""
    return [SomfyProCentreSensor(entry, description) for description in SENSORS]


def centre_binary_sensors(entry: SomfyProConfigEntry) -> list[BinarySensorEntity]:
    """Binary sensors of professional monitoring."""
    return [SomfyProCentreBinarySensor(entry, description) for description in BINARY_SENSORS]
