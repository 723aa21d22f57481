"""Device triggers: "when the smoke detector reports fire" in the automation editor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
import voluptuous as vol

from .alerts import (
    ALERT_BOX_OFFLINE,
    CLEARED_SUFFIX,
    EVENT_TYPES,
    alert_capabilities,
)
from .const import DOMAIN, EVENT_ALERT

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.core import CALLBACK_TYPE, HomeAssistant
    from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
    from homeassistant.helpers.typing import ConfigType

    from .models import SomfyProConfigEntry

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend({vol.Required(CONF_TYPE): vol.In(EVENT_TYPES)})


def _alert_types(hass: HomeAssistant, device_id: str) -> list[str]:
    """The alerts a device can raise (the box: going offline)."""
    entries: list[SomfyProConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    for entry in entries:
        if entry.state is not ConfigEntryState.LOADED:
            continue
        coordinator = entry.runtime_data.coordinator
        identifier = coordinator.identifier_for(device_id)
        if identifier is None:
            continue
        if identifier == coordinator.data.gateway.id:
            return [ALERT_BOX_OFFLINE]
        alerts: list[str] = []
        for product in coordinator.data.devices.values():
            if product.base_url == identifier:
                alerts += [a for a in alert_capabilities(product) if a not in alerts]
        return alerts
    return []


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """One trigger per alert the device can raise, and one for its clearing."""
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: event_type,
        }
        for alert in _alert_types(hass, device_id)
        for event_type in (alert, alert + CLEARED_SUFFIX)
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen to ``somfy_pro_alert`` for this device and alert type."""
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: EVENT_ALERT,
            CONF_EVENT_DATA: {
                CONF_DEVICE_ID: config[CONF_DEVICE_ID],
                CONF_TYPE: config[CONF_TYPE],
            },
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
