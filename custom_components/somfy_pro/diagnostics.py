"""Diagnostics: the box, its products and alerts, with what identifies the home redacted.

What is redacted and why is described in ``redaction``: token, PIN, e-mail addresses, Wi-Fi
names, the GSM provider, MAC/zigbee/IP addresses, HomeKit pairing codes and the position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_TOKEN

from .box_api import PYOVERKIZ_V2, BoxError
from .redaction import Redactor

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .box_api import Device
    from .models import SomfyProConfigEntry

TO_REDACT = {CONF_TOKEN, "email", "e-mail", "username", "password"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SomfyProConfigEntry
) -> dict[str, Any]:
    """Everything needed to understand a report, and nothing that identifies the home."""
    coordinator = entry.runtime_data.coordinator
    data = coordinator.data
    gateway = data.gateway
    redactor = Redactor(entry.unique_id or gateway.id)
    diagnostics = {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "unique_id": entry.unique_id,
        },
        "pyoverkiz_major": 2 if PYOVERKIZ_V2 else 1,
        "box": {
            "online": coordinator.last_update_success,
            "id": gateway.id,
            "model": gateway.model,
            "type": gateway.type,
            "sub_type": gateway.sub_type,
            "name": data.hub_name,
            "firmware": gateway.firmware,
            "alive": gateway.alive,
            "mode": gateway.mode,
            "up_to_date": gateway.up_to_date,
            "update_status": gateway.update_status,
        },
        "devices": [_device(device, redactor) for device in data.devices.values()],
        "other_devices": await _other_devices(entry, redactor),
        "active_alerts": entry.runtime_data.alerts.as_diagnostics(),
        "remote_service": entry.runtime_data.remote_service.as_diagnostics(),
        # The state only: no names, phone numbers, address or password hashes.
        "monitoring_centre": entry.runtime_data.centre.as_diagnostics(),
        # How many tickets and in which status, never what they say.
        "tickets": entry.runtime_data.tickets.as_diagnostics(),
        # The plan's and services' codes and states: what the sensors show, no price.
        "services": entry.runtime_data.subscriptions.as_diagnostics(),
        "installer_portal": {
            **entry.runtime_data.portal.as_diagnostics(),
            **entry.runtime_data.monitoring.as_diagnostics(),
        },
    }
    scrubbed: dict[str, Any] = redactor.anything(diagnostics)
    return scrubbed


def _device(device: Device, redactor: Redactor) -> dict[str, Any]:
    return {
        "url": device.url,
        "label": device.label,
        "controllable_name": device.controllable_name,
        "ui_class": device.ui_class,
        "widget": device.widget,
        "available": device.available,
        "place": device.place,
        "states": redactor.states(async_redact_data(device.states, TO_REDACT)),
        # Declared in the definition, reported or not (the simulator replays these).
        "declared_states": list(device.declared_states),
        "attributes": redactor.states(async_redact_data(device.attributes, TO_REDACT)),
    }


async def _other_devices(
    entry: SomfyProConfigEntry, redactor: Redactor
) -> list[dict[str, Any]] | None:
    """What the box lists besides its products (its pod, its radio stacks), read now.

    Products are enough to understand a report, but a box is reproduced from the download
    (the simulator replays it) only with these too. None when the box cannot be read.
    """
    products = entry.runtime_data.coordinator.data.devices
    try:
        setup = await entry.runtime_data.client.get_setup()
    except BoxError:
        return None
    return [_device(d, redactor) for url, d in setup.devices.items() if url not in products]
