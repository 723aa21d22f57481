"""Somfy Pro: a Somfy box (TaHoma, Connexoon) on its local API, its products and alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import CONF_HOST, CONF_TOKEN, CONF_VERIFY_SSL, Platform
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.loader import async_get_integration

from . import audit, portal, remote_service, services, window_services
from .actions import request_issue_id
from .alerts import AlertTracker, async_remove_store
from .box_api import BoxClient
from .const import DOMAIN, LOGGER
from .coordinator import (
    SomfyProConfigEntry,
    SomfyProCoordinator,
    SomfyProRuntimeData,
    token_issue_id,
)

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions."""
    services.async_setup_services(hass)
    window_services.async_setup_window_services(hass)
    return True


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
    audit_log = audit.AuditLog(hass, entry.entry_id)
    await audit_log.async_load()
    remote = remote_service.RemoteService(hass, entry.entry_id, audit_log)
    await remote.async_load()
    entry.async_on_unload(remote.async_unload)
    entry.async_on_unload(entry.add_update_listener(remote.async_entry_updated))
    integration = await async_get_integration(hass, DOMAIN)
    portal_manager = portal.PortalManager(
        hass,
        entry,
        async_get_clientsession(hass),
        coordinator,
        alerts,
        str(integration.version),
    )
    await portal_manager.async_load()
    entry.runtime_data = SomfyProRuntimeData(
        client=client,
        coordinator=coordinator,
        alerts=alerts,
        portal=portal_manager,
        remote_service=remote,
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # The installer portal first: alerts raised at start reach it while monitoring is granted.
    portal_manager.async_start()
    coordinator.async_start_alerts()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SomfyProConfigEntry) -> bool:
    """Close the portal channel (its outbox is written), then unload the platforms.

    The box's event listener is dropped by ``async_on_unload``.
    """
    await entry.runtime_data.portal.async_stop()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: SomfyProConfigEntry) -> None:
    """Forget the entry's alerts, portal state and repair issues when it is deleted."""
    ir.async_delete_issue(hass, DOMAIN, token_issue_id(entry.entry_id))
    ir.async_delete_issue(hass, DOMAIN, portal.monitoring_issue_id(entry.entry_id))
    await async_remove_store(hass, entry.entry_id)
    ir.async_delete_issue(hass, DOMAIN, request_issue_id(entry.entry_id))
    await remote_service.async_remove_store(hass, entry.entry_id)
    await audit.async_remove_store(hass, entry.entry_id)
    await portal.async_remove_store(hass, entry.entry_id)
    link = entry.data.get(portal.CONF_PORTAL)
    if isinstance(link, dict):
        # The box leaves Home Assistant: the installer's link goes with it.
        try:
            await portal.async_unlink(
                async_get_clientsession(hass), link[portal.LINK_URL], link[portal.LINK_TOKEN]
            )
        except portal.PortalError as err:
            LOGGER.warning("The portal could not be told about the unlink: %s", err)


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
