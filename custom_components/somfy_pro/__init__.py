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

from . import (
    audit,
    centre,
    portal_store,
    remote_service,
    services,
    subscriptions,
    ticket_services,
    tickets,
    window_services,
)
from .alerts import AlertTracker, async_remove_store
from .box_api import BoxClient
from .const import DOMAIN, LOGGER
from .coordinator import SomfyProCoordinator, token_issue_id, unexpected_issue_id
from .installer_actions import FRAME_TYPES, InstallerActions, request_issue_id
from .models import SomfyProConfigEntry, SomfyProRuntimeData
from .portal_channel import PortalChannel
from .portal_client import PortalError, PortalLink, async_unlink
from .portal_monitoring import PortalMonitoring, monitoring_issue_id

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR, Platform.TODO]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions."""
    services.async_setup_services(hass)
    window_services.async_setup_window_services(hass)
    ticket_services.async_setup_ticket_services(hass)
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
    store = portal_store.PortalStore(hass, entry.entry_id)
    channel = PortalChannel(
        hass,
        entry,
        async_get_clientsession(hass),
        store,
        str(integration.version),
        remote_service.signal_outgoing(entry.entry_id),
    )
    monitoring = PortalMonitoring(hass, entry, channel, store, coordinator, alerts)
    monitoring_centre = centre.MonitoringCentre(hass, entry, channel, store, coordinator, alerts)
    installer_actions = InstallerActions(hass, entry, client, coordinator, remote)
    ticket_tracker = tickets.TicketTracker(hass, entry, channel)
    await ticket_tracker.async_load()
    customer_services = subscriptions.Subscriptions(hass, entry.entry_id, channel)
    await customer_services.async_load()
    channel.register(FRAME_TYPES, installer_actions.async_handle_portal_frame)

    def hello() -> dict[str, Any]:
        return {
            "pin": entry.unique_id or coordinator.data.gateway.id,
            "monitoring": monitoring.granted,
            "window": remote.hello_window(),
        }

    channel.set_hello(hello)
    stored = await store.async_load()
    channel.async_restore(stored)
    monitoring.async_restore(stored)
    monitoring_centre.async_restore(stored)
    entry.runtime_data = SomfyProRuntimeData(
        client=client,
        coordinator=coordinator,
        alerts=alerts,
        remote_service=remote,
        portal=channel,
        monitoring=monitoring,
        centre=monitoring_centre,
        installer_actions=installer_actions,
        tickets=ticket_tracker,
        subscriptions=customer_services,
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # The installer portal first: alerts raised at start reach it while monitoring is granted.
    monitoring.async_start()
    monitoring_centre.async_start()
    channel.async_start(remote.async_release_held(), installer_actions.async_interrupted)
    coordinator.async_start_alerts()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SomfyProConfigEntry) -> bool:
    """Close the portal channel (its outbox is written), then unload the platforms.

    The box's event listener is dropped by ``async_on_unload``.
    """
    entry.runtime_data.monitoring.async_stop()
    entry.runtime_data.centre.async_stop()
    await entry.runtime_data.portal.async_stop()
    await entry.runtime_data.tickets.async_stop()
    await entry.runtime_data.subscriptions.async_stop()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: SomfyProConfigEntry) -> None:
    """Forget the entry's alerts, portal state and repair issues when it is deleted."""
    ir.async_delete_issue(hass, DOMAIN, token_issue_id(entry.entry_id))
    ir.async_delete_issue(hass, DOMAIN, unexpected_issue_id(entry.entry_id))
    ir.async_delete_issue(hass, DOMAIN, monitoring_issue_id(entry.entry_id))
    for issue_id in centre.missing_issue_ids(entry.entry_id):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    await async_remove_store(hass, entry.entry_id)
    ir.async_delete_issue(hass, DOMAIN, request_issue_id(entry.entry_id))
    await remote_service.async_remove_store(hass, entry.entry_id)
    await audit.async_remove_store(hass, entry.entry_id)
    await portal_store.async_remove_store(hass, entry.entry_id)
    await tickets.async_remove_store(hass, entry.entry_id)
    await subscriptions.async_remove_store(hass, entry.entry_id)
    link = PortalLink.from_entry(entry)
    if link is not None:
        # The box leaves Home Assistant: the installer's link goes with it.
        try:
            await async_unlink(async_get_clientsession(hass), link.url, link.token)
        except PortalError as err:
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
