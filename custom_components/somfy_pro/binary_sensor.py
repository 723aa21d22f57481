"""Binary sensors: box online, activated and firmware; product online, battery, problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback

from .centre_entity import centre_binary_sensors
from .const import (
    STATE_ASSEMBLY,
    STATE_BATTERY,
    STATE_CONTACT,
    STATE_OCCUPANCY,
    STATE_PANIC,
    STATE_SENSOR_DEFECT,
    STATE_SMOKE,
)
from .entity import SomfyProEntity, async_track_device_entities
from .portal_entity import portal_binary_sensors
from .remote_service_entity import remote_service_binary_sensors
from .state_values import (
    battery_low,
    gateway_activated,
    intrusion,
    reports_battery,
    reports_intrusion,
    reports_presence,
    sensor_defect,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .box_api import Device
    from .coordinator import SomfyProCoordinator
    from .models import SomfyProConfigEntry

# Read-only entities fed by the coordinator.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SomfyProBoxBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor of the box."""

    exists_fn: Callable[[SomfyProCoordinator], bool] = lambda _: True
    value_fn: Callable[[SomfyProCoordinator], bool | None]
    always_available: bool = False


@dataclass(frozen=True, kw_only=True)
class SomfyProDeviceBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor of a product."""

    exists_fn: Callable[[Device], bool]
    value_fn: Callable[[Device], bool | None]
    available_when_offline: bool = False
    # A state the box reports only once something is wrong: while the product declares it but
    # has not reported it, the sensor is off (nothing wrong), not unknown.
    off_until_reported: str | None = None


BOX_DESCRIPTIONS: tuple[SomfyProBoxBinarySensorDescription, ...] = (
    SomfyProBoxBinarySensorDescription(
        key="online",
        translation_key="box_online",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda coordinator: coordinator.last_update_success,
        always_available=True,
    ),
    SomfyProBoxBinarySensorDescription(
        key="activated",
        translation_key="activated",
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda coordinator: coordinator.data.gateway.mode is not None,
        value_fn=lambda coordinator: gateway_activated(coordinator.data.gateway.mode),
    ),
    SomfyProBoxBinarySensorDescription(
        key="firmware",
        translation_key="firmware",
        device_class=BinarySensorDeviceClass.UPDATE,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda coordinator: coordinator.data.gateway.up_to_date is not None,
        value_fn=lambda coordinator: coordinator.data.gateway.up_to_date is False,
    ),
)


def _is(state: str, *values: object) -> Callable[[Device], bool | None]:
    def value(device: Device) -> bool | None:
        current = device.states.get(state)
        return None if current is None else current in values

    return value


DEVICE_DESCRIPTIONS: tuple[SomfyProDeviceBinarySensorDescription, ...] = (
    SomfyProDeviceBinarySensorDescription(
        key="online",
        translation_key="device_online",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=reports_presence,
        value_fn=lambda device: device.available,
        available_when_offline=True,
    ),
    SomfyProDeviceBinarySensorDescription(
        key="battery",
        translation_key="battery_low",
        device_class=BinarySensorDeviceClass.BATTERY,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda device: reports_battery(device.known_states),
        value_fn=lambda device: battery_low(device.states),
        off_until_reported=STATE_BATTERY,
    ),
    SomfyProDeviceBinarySensorDescription(
        key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda device: device.has_state(STATE_SENSOR_DEFECT),
        value_fn=lambda device: sensor_defect(device.states),
        off_until_reported=STATE_SENSOR_DEFECT,
    ),
    SomfyProDeviceBinarySensorDescription(
        key="tamper",
        device_class=BinarySensorDeviceClass.TAMPER,
        exists_fn=lambda device: device.has_state(STATE_ASSEMBLY),
        value_fn=_is(STATE_ASSEMBLY, "open"),
    ),
    SomfyProDeviceBinarySensorDescription(
        key="intrusion",
        translation_key="intrusion",
        device_class=BinarySensorDeviceClass.SAFETY,
        exists_fn=lambda device: reports_intrusion(device.known_states),
        value_fn=lambda device: intrusion(device.states),
    ),
    SomfyProDeviceBinarySensorDescription(
        key="smoke",
        device_class=BinarySensorDeviceClass.SMOKE,
        exists_fn=lambda device: device.has_state(STATE_SMOKE),
        value_fn=_is(STATE_SMOKE, "detected"),
    ),
    SomfyProDeviceBinarySensorDescription(
        key="panic",
        translation_key="panic",
        device_class=BinarySensorDeviceClass.SAFETY,
        exists_fn=lambda device: device.has_state(STATE_PANIC),
        value_fn=_is(STATE_PANIC, "detected"),
    ),
    SomfyProDeviceBinarySensorDescription(
        key="contact",
        device_class=BinarySensorDeviceClass.OPENING,
        exists_fn=lambda device: device.has_state(STATE_CONTACT),
        value_fn=_is(STATE_CONTACT, "open"),
    ),
    SomfyProDeviceBinarySensorDescription(
        key="occupancy",
        device_class=BinarySensorDeviceClass.OCCUPANCY,
        exists_fn=lambda device: device.has_state(STATE_OCCUPANCY),
        value_fn=_is(STATE_OCCUPANCY, "personInside"),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SomfyProConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the box's binary sensors, and those of every product, now and when paired."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        SomfyProBoxBinarySensor(coordinator, description)
        for description in BOX_DESCRIPTIONS
        if description.exists_fn(coordinator)
    )
    async_add_entities(portal_binary_sensors(entry))
    async_add_entities(centre_binary_sensors(entry))
    async_add_entities(remote_service_binary_sensors(entry))

    @callback
    def add_new(new: list[tuple[str, SomfyProDeviceBinarySensorDescription]]) -> None:
        async_add_entities(
            SomfyProDeviceBinarySensor(coordinator, description, url) for url, description in new
        )

    async_track_device_entities(entry, DEVICE_DESCRIPTIONS, add_new)


class SomfyProBoxBinarySensor(SomfyProEntity, BinarySensorEntity):
    """A binary sensor of the box."""

    entity_description: SomfyProBoxBinarySensorDescription

    @property
    def available(self) -> bool:
        """The box-online sensor reports the box being unreachable, so it stays available."""
        return self.entity_description.always_available or super().available

    @property
    def is_on(self) -> bool | None:
        """The sensor's state."""
        return self.entity_description.value_fn(self.coordinator)


class SomfyProDeviceBinarySensor(SomfyProEntity, BinarySensorEntity):
    """A binary sensor of a product."""

    entity_description: SomfyProDeviceBinarySensorDescription

    def __init__(
        self,
        coordinator: SomfyProCoordinator,
        description: SomfyProDeviceBinarySensorDescription,
        device_url: str,
    ) -> None:
        """Attach to the product."""
        super().__init__(coordinator, description, device_url)
        self._available_when_device_offline = description.available_when_offline

    @property
    def is_on(self) -> bool | None:
        """The sensor's state."""
        device = self.device
        if device is None:
            return None
        value = self.entity_description.value_fn(device)
        quiet_state = self.entity_description.off_until_reported
        if value is None and quiet_state is not None and quiet_state in device.declared_states:
            return False
        return value
