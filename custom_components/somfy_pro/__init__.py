"""Somfy Pro: a Somfy box (TaHoma, Connexoon) on its local API, its products and alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import CONF_HOST, CONF_TOKEN, CONF_VERIFY_SSL, Platform
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .alerts import AlertTracker, async_remove_store
from .box_api import BoxClient
from .const import DOMAIN
from .coordinator import (
    SomfyProConfigEntry,
    SomfyProCoordinator,
    SomfyProRuntimeData,
    token_issue_id,
)

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.core import HomeAssistant

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: SomfyProConfigEntry) -> bool:
    """Connect to the box, read it, and set up the platforms."""
    verify_ssl: bool = entry.data[CONF_VERIFY_SSL]
    client = BoxClient(
        async_get_clientsession(hass, verify_ssl=verify_ssl),
        entry.data[CONF_HOST],
        entry.data[CONF_TOKEN],
        verify_ssl,
    )
    alerts = AlertTracker(hass, entry.entry_id)
    await alerts.async_load()
    coordinator = SomfyProCoordinator(hass, entry, client, alerts)
    entry.async_on_unload(client.unregister_listener)
    await coordinator.async_config_entry_first_refresh()
    if entry.unique_id is not None and coordinator.data.gateway.id != entry.unique_id:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="wrong_box",
            translation_placeholders={"host": entry.data[CONF_HOST]},
        )
    ir.async_delete_issue(hass, DOMAIN, token_issue_id(entry.entry_id))
    entry.runtime_data = SomfyProRuntimeData(client=client, coordinator=coordinator, alerts=alerts)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_alerts()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SomfyProConfigEntry) -> bool:
    """Unload the platforms (the listener is dropped by ``async_on_unload``)."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: SomfyProConfigEntry) -> None:
    """Forget the entry's alerts and repair issue when it is deleted."""
    ir.async_delete_issue(hass, DOMAIN, token_issue_id(entry.entry_id))
    await async_remove_store(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: SomfyProConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """Let the user delete a device only when the box no longer has it."""
    data = entry.runtime_data.coordinator.data
    current = {data.gateway.id} | {device.base_url for device in data.devices.values()}
    return not any(
        domain == DOMAIN and identifier in current
        for domain, identifier in device_entry.identifiers
    )
