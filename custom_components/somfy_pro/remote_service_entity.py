"""Entities of remote service on the box device: window open, until when, for whom; audit log.

They show Home Assistant's own state (the window it enforces, the log it keeps), so they stay
available while the box is unreachable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import callback

from .entity import SomfyProEntity

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from .coordinator import SomfyProCoordinator
    from .models import SomfyProConfigEntry
    from .remote_service import RemoteService

WINDOW_DESCRIPTION = BinarySensorEntityDescription(
    key="remote_service", translation_key="remote_service"
)
AUDIT_DESCRIPTION = BinarySensorEntityDescription(
    key="audit_log",
    translation_key="audit_log",
    device_class=BinarySensorDeviceClass.PROBLEM,
    entity_category=EntityCategory.DIAGNOSTIC,
)
UNTIL_DESCRIPTION = SensorEntityDescription(
    key="remote_service_until",
    translation_key="remote_service_until",
    device_class=SensorDeviceClass.TIMESTAMP,
)
INSTALLER_DESCRIPTION = SensorEntityDescription(
    key="remote_service_installer", translation_key="remote_service_installer"
)


def remote_service_binary_sensors(entry: SomfyProConfigEntry) -> list[BinarySensorEntity]:
    """The window and audit-log binary sensors of the box."""
    coordinator = entry.runtime_data.coordinator
    remote = entry.runtime_data.remote_service
    return [
        RemoteServiceWindowSensor(coordinator, WINDOW_DESCRIPTION, remote),
        AuditLogProblemSensor(coordinator, AUDIT_DESCRIPTION, remote),
    ]


def remote_service_sensors(entry: SomfyProConfigEntry) -> list[SensorEntity]:
    """The until and installer sensors of the box."""
    coordinator = entry.runtime_data.coordinator
    remote = entry.runtime_data.remote_service
    return [
        RemoteServiceUntilSensor(coordinator, UNTIL_DESCRIPTION, remote),
        RemoteServiceInstallerSensor(coordinator, INSTALLER_DESCRIPTION, remote),
    ]


class _RemoteServiceEntity(SomfyProEntity):
    """Follows the window (and the audit log), not the box."""

    def __init__(
        self,
        coordinator: SomfyProCoordinator,
        description: BinarySensorEntityDescription | SensorEntityDescription,
        remote: RemoteService,
    ) -> None:
        """Attach to the box device."""
        super().__init__(coordinator, description)
        self._remote = remote

    @property
    def available(self) -> bool:
        """Home Assistant's own state: always available."""
        return True

    async def async_added_to_hass(self) -> None:
        """Follow the window and the audit log."""
        await super().async_added_to_hass()
        self.async_on_remove(self._remote.async_add_listener(self.async_write_ha_state))
        self.async_on_remove(self._remote.audit.async_add_listener(self.async_write_ha_state))

    @callback
    def _handle_coordinator_update(self) -> None:
        """The box's updates change nothing here."""


class RemoteServiceWindowSensor(_RemoteServiceEntity, BinarySensorEntity):
    """On while an installer may act on the box."""

    @property
    def is_on(self) -> bool:
        """A window is open."""
        return self._remote.current is not None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The kinds of action granted."""
        window = self._remote.current
        return {"kinds": list(window.kinds) if window else []}


class AuditLogProblemSensor(_RemoteServiceEntity, BinarySensorEntity):
    """On when the audit log's hash chain is broken (a record was changed or removed)."""

    @property
    def is_on(self) -> bool:
        """The chain does not verify."""
        return not self._remote.audit.verify().ok

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Number of records."""
        return {"records": len(self._remote.audit.records)}


class RemoteServiceUntilSensor(_RemoteServiceEntity, SensorEntity):
    """When the open window ends (unknown when none is open)."""

    @property
    def native_value(self) -> datetime | None:
        """End of the window."""
        window = self._remote.current
        return window.until if window else None


class RemoteServiceInstallerSensor(_RemoteServiceEntity, SensorEntity):
    """The installer company of the open window (unknown when none is open)."""

    @property
    def native_value(self) -> str | None:
        """Company name."""
        window = self._remote.current
        return window.company if window else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The installer's name, when the request gave it."""
        window = self._remote.current
        return {"installer": window.installer if window else None}
