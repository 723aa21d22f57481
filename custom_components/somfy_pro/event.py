"""The alert event entity of the box."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback

from .alerts import EVENT_TYPES, AlertChange
from .entity import SomfyProEntity

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .models import SomfyProConfigEntry

# Read-only entity fed by the coordinator.
PARALLEL_UPDATES = 0

ALERT_DESCRIPTION = EventEntityDescription(
    key="alerts",
    translation_key="alerts",
    event_types=EVENT_TYPES,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SomfyProConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the alert event entity."""
    async_add_entities([SomfyProAlertEvent(entry.runtime_data.coordinator, ALERT_DESCRIPTION)])


class SomfyProAlertEvent(SomfyProEntity, EventEntity):
    """Fires for every alert raised or cleared on the box or one of its products."""

    @property
    def available(self) -> bool:
        """Always available: it reports the box going offline too."""
        return True

    async def async_added_to_hass(self) -> None:
        """Listen to the alert tracker."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.alerts.async_add_listener(self._async_alert))

    @callback
    def _async_alert(self, change: AlertChange) -> None:
        data = self.coordinator.alert_event_data(change)
        self._trigger_event(
            change.event_type,
            {key: value for key, value in data.items() if key not in ("type", "config_entry_id")},
        )
        self.async_write_ha_state()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Nothing to show between alerts."""
