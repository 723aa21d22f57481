"""Sensors: paired devices and active alerts of the box; radio level and battery of products."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant, callback

from .centre_entity import centre_sensors
from .const import STATE_BATTERY_LEVEL, STATE_RSSI, STATE_RSSI_DISCRETE
from .entity import SomfyProEntity, async_track_device_entities
from .portal_entity import portal_sensors
from .products import RADIO_ENTITY_KEYS
from .remote_service_entity import remote_service_sensors
from .state_values import battery_level, radio_level
from .subscription_entity import subscription_sensors

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .box_api import Device
    from .coordinator import SomfyProCoordinator
    from .models import SomfyProConfigEntry

# Read-only entities fed by the coordinator.
PARALLEL_UPDATES = 0

RADIO_QUALITIES = ["verylow", "low", "normal", "good"]


@dataclass(frozen=True, kw_only=True)
class SomfyProBoxSensorDescription(SensorEntityDescription):
    """A sensor of the box."""

    value_fn: Callable[[SomfyProCoordinator], int]


@dataclass(frozen=True, kw_only=True)
class SomfyProDeviceSensorDescription(SensorEntityDescription):
    """A sensor of a product."""

    exists_fn: Callable[[Device], bool]
    value_fn: Callable[[Device], int | str | None]


BOX_DESCRIPTIONS: tuple[SomfyProBoxSensorDescription, ...] = (
    SomfyProBoxSensorDescription(
        key="paired_devices",
        translation_key="paired_devices",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda coordinator: len(
            {device.base_url for device in coordinator.data.devices.values()}
        ),
    ),
    SomfyProBoxSensorDescription(
        key="active_alerts",
        translation_key="active_alerts",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda coordinator: coordinator.alerts.count(),
    ),
)


def _enum(state: str, options: list[str]) -> Callable[[Device], str | None]:
    def value(device: Device) -> str | None:
        current = device.states.get(state)
        return current if isinstance(current, str) and current in options else None

    return value


DEVICE_DESCRIPTIONS: tuple[SomfyProDeviceSensorDescription, ...] = (
    SomfyProDeviceSensorDescription(
        key="radio_level",
        translation_key="radio_level",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda device: device.has_state(STATE_RSSI),
        # Percent, or dBm mapped to percent: see ``state_values.radio_level``.
        value_fn=lambda device: radio_level(device.states.get(STATE_RSSI)),
    ),
    SomfyProDeviceSensorDescription(
        key="radio_quality",
        translation_key="radio_quality",
        device_class=SensorDeviceClass.ENUM,
        options=RADIO_QUALITIES,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        exists_fn=lambda device: device.has_state(STATE_RSSI_DISCRETE),
        value_fn=_enum(STATE_RSSI_DISCRETE, RADIO_QUALITIES),
    ),
    SomfyProDeviceSensorDescription(
        key="battery_level",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda device: device.has_state(STATE_BATTERY_LEVEL),
        value_fn=lambda device: battery_level(device.states.get(STATE_BATTERY_LEVEL)),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SomfyProConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the box's sensors, and those of every product, now and when paired."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        SomfyProBoxSensor(coordinator, description) for description in BOX_DESCRIPTIONS
    )
    async_add_entities(portal_sensors(entry))
    async_add_entities(centre_sensors(entry))
    async_add_entities(remote_service_sensors(entry))
    async_add_entities(subscription_sensors(entry))

    @callback
    def add_new(new: list[tuple[str, SomfyProDeviceSensorDescription]]) -> None:
        async_add_entities(
            SomfyProDeviceSensor(coordinator, description, url) for url, description in new
        )

    @callback
    def radio_here(url: str, description: SomfyProDeviceSensorDescription) -> bool:
        """Radio entities only on the one sub-device that stands for its product's radio."""
        return description.key not in RADIO_ENTITY_KEYS or url in coordinator.data.radio_urls

    async_track_device_entities(entry, DEVICE_DESCRIPTIONS, add_new, radio_here)


class SomfyProBoxSensor(SomfyProEntity, SensorEntity):
    """A sensor of the box."""

    entity_description: SomfyProBoxSensorDescription

    @property
    def native_value(self) -> int:
        """The sensor's value."""
        return self.entity_description.value_fn(self.coordinator)


class SomfyProDeviceSensor(SomfyProEntity, SensorEntity):
    """A sensor of a product."""

    entity_description: SomfyProDeviceSensorDescription

    @property
    def native_value(self) -> int | str | None:
        """The sensor's value."""
        device = self.device
        return None if device is None else self.entity_description.value_fn(device)
