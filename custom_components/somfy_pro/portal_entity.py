"""Entities of the installer link, on the box's device: installer, connection, monitoring."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN

if TYPE_CHECKING:  # pragma: no cover
    from .models import SomfyProConfigEntry
    from .portal_channel import PortalChannel
    from .portal_monitoring import PortalMonitoring

INSTALLER = SensorEntityDescription(key="installer", translation_key="installer")
PORTAL_CONNECTION = BinarySensorEntityDescription(
    key="portal_connection",
    translation_key="portal_connection",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)
MONITORING = BinarySensorEntityDescription(key="monitoring", translation_key="monitoring")


class SomfyProPortalEntity(Entity):
    """An entity of the installer link; it does not depend on the box being reachable."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: SomfyProConfigEntry, description: EntityDescription) -> None:
        """Attach to the box's device."""
        self.entity_description = description
        self.portal: PortalChannel = entry.runtime_data.portal
        self.monitoring: PortalMonitoring = entry.runtime_data.monitoring
        gateway_id = entry.runtime_data.coordinator.data.gateway.id
        self._attr_unique_id = f"{gateway_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, gateway_id)})

    async def async_added_to_hass(self) -> None:
        """Follow the link, the connection and the consent."""
        self.async_on_remove(self.portal.async_add_listener(self.async_write_ha_state))


class SomfyProInstallerSensor(SomfyProPortalEntity, SensorEntity):
    """The linked installer company (unknown when not linked)."""

    @property
    def native_value(self) -> str | None:
        """Company name."""
        return self.portal.company_name


class SomfyProPortalConnectionSensor(SomfyProPortalEntity, BinarySensorEntity):
    """Connected to the installer portal, and since when."""

    @property
    def is_on(self) -> bool:
        """Connected."""
        return self.portal.connected

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Since when connected or disconnected."""
        return {"since": self.portal.since.isoformat() if self.portal.since else None}


class SomfyProMonitoringSensor(SomfyProPortalEntity, BinarySensorEntity):
    """Monitoring granted to the linked installer."""

    @property
    def is_on(self) -> bool:
        """Granted."""
        return self.monitoring.granted


def portal_binary_sensors(entry: SomfyProConfigEntry) -> list[BinarySensorEntity]:
    """Binary sensors of the installer link."""
    return [
        SomfyProPortalConnectionSensor(entry, PORTAL_CONNECTION),
        SomfyProMonitoringSensor(entry, MONITORING),
    ]


def portal_sensors(entry: SomfyProConfigEntry) -> list[SensorEntity]:
    """Sensors of the installer link."""
    return [SomfyProInstallerSensor(entry, INSTALLER)]
