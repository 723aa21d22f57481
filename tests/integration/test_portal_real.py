"""Linking, monitoring and at-least-once delivery against the real portal app, in-process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from sqlalchemy import select

from box_simulator.server import BoxSimulator
from companion_server.models import Alert, Device, InstallationLink
from companion_server.monitoring.services import request_monitoring
from companion_server.registration.linking import unlink_by_installer
from companion_server.registration.services import Registered, seed_registration
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.portal_client import CONF_PORTAL
from custom_components.somfy_pro.portal_monitoring import monitoring_issue_id
from tests.portal_app import Portal

from .common import FRONT_DOOR, MOTION, PIN, SHUTTER, state_of, tick
from .cutting_proxy import DOWNSTREAM, UPSTREAM, CuttingProxy
from .portal_channel_common import choose_in_options, revoke_with_service
from .portal_common import answer_monitoring_request, manager_of, wait_until
from .real_portal_common import real_portal

__all__ = ["real_portal"]

# Where the channel finds its backoff (patched to reconnect at once).
BACKOFF_DELAY = "custom_components.somfy_pro.portal_connection.backoff_delay"


async def wait_for(
    hass: HomeAssistant, check: Callable[[], Awaitable[bool]], what: str, rounds: int = 2000
) -> None:
    """Wait for something the portal's database says."""
    for _ in range(rounds):
        if await check():
            return
        await wait_until(hass, lambda: True)
        await hass.async_block_till_done()
    raise AssertionError(f"timed out waiting for {what}")


async def _link(hass: HomeAssistant, entry: MockConfigEntry, url: str, code: str) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "link"
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": url, "code": code}
    )


async def _linked_and_granted(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    portal: Portal,
    url: str | None = None,
    *,
    pin: str = PIN,
) -> Registered:
    """Linked to the portal (at ``url`` if it goes through a proxy), monitoring granted."""
    reg = await seed_registration(portal.core, pin=pin, company_name="Test Installers")
    result = await _link(hass, entry, url or portal.url, reg.code)
    assert result["type"] == "create_entry"
    await wait_until(hass, lambda: manager_of(entry).connected, "the channel")
    await request_monitoring(portal.core, reg.actor_id, reg.installation_id)
    await wait_until(
        hass,
        lambda: ir.async_get(hass).async_get_issue(DOMAIN, monitoring_issue_id(entry.entry_id)),
        "the monitoring request",
    )
    await answer_monitoring_request(hass, entry, "approve")

    async def granted() -> bool:
        state = await portal.state(reg.installation_id)
        return state.monitoring == "granted" and await portal.count(Device) > 0

    await wait_for(hass, granted, "monitoring granted on the portal")
    return reg


async def test_link_monitor_and_revoke(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    real_portal: Portal,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = init_integration
    # A wrong code, and a code issued for another box: one answer.
    result = await _link(hass, entry, real_portal.url, "AAAAA-BBBBB")
    assert result["errors"] == {"code": "invalid_code"}
    other = await seed_registration(real_portal.core, pin="2222-3333-4444")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": real_portal.url, "code": other.code}
    )
    assert result["errors"] == {"code": "invalid_code"}

    reg = await _linked_and_granted(hass, entry, real_portal)
    assert state_of(hass, "sensor", f"{PIN}_installer") == "Test Installers"
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring") == "on"
    async with real_portal.core.tx() as db:
        shutter = await db.scalar(select(Device).where(Device.url == SHUTTER))
        assert shutter is not None
        assert shutter.rssi is not None
        assert shutter.protocol == "io"

    # An intrusion reaches the portal once; its radio level changes too.
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    simulator.box.set_rssi(SHUTTER, 7)
    await tick(hass, freezer)

    async def alert_and_radio() -> bool:
        async with real_portal.core.tx() as db:
            device = await db.scalar(select(Device).where(Device.url == SHUTTER))
        return await real_portal.count(Alert) == 1 and device is not None and device.rssi == 7

    await wait_for(hass, alert_and_radio, "the alert and the radio level")
    await wait_until(hass, lambda: not manager_of(entry).outbox, "the ack")
    # The update named the snapshot it led from, as the portal had digested it: the portal's
    # connection holds the snapshot Home Assistant would send now, and would skip it.
    assert real_portal.core.hub is not None
    held = real_portal.core.hub.connections[reg.installation_id].snapshot_digest
    assert held is not None and len(held) == 64

    # Revoked from Home Assistant: the portal locks, and nothing more arrives.
    await revoke_with_service(hass, entry.entry_id)

    async def revoked() -> bool:
        return (await real_portal.state(reg.installation_id)).monitoring == "revoked"

    await wait_for(hass, revoked, "the revocation")
    simulator.box.set_alert(MOTION, "intrusion", True)
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert await real_portal.count(Alert) == 1
    assert not manager_of(entry).outbox

    # Unlinked from Home Assistant: the portal's link ends too.
    await choose_in_options(hass, entry, "unlink")
    assert CONF_PORTAL not in entry.data
    assert await real_portal.count(InstallationLink, InstallationLink.revoked_at.is_(None)) == 0


async def test_unlinked_by_the_installer(
    hass: HomeAssistant, init_integration: MockConfigEntry, real_portal: Portal
) -> None:
    reg = await seed_registration(real_portal.core, pin=PIN)
    result = await _link(hass, init_integration, real_portal.url, reg.code)
    assert result["type"] == "create_entry"
    await wait_until(hass, lambda: manager_of(init_integration).connected, "the channel")
    await unlink_by_installer(real_portal.core, reg.actor_id, reg.installation_id)
    await wait_until(hass, lambda: CONF_PORTAL not in init_integration.data, "the unlink")
    assert state_of(hass, "sensor", f"{PIN}_installer") == "unknown"


async def test_every_alert_once_across_portal_and_ha_restarts(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    real_portal: Portal,
    simulator: BoxSimulator,
) -> None:
    """Real time here: the portal's shutdown waits for its sockets on the event loop's clock.

    The reconnection delay is shortened (backoff itself is tested on the scripted peer).
    """
    entry = init_integration
    await _linked_and_granted(hass, entry, real_portal)
    manager = manager_of(entry)

    with patch(BACKOFF_DELAY, return_value=0.05):
        # The portal goes away while alerts keep coming.
        await real_portal.stop()
        await wait_until(hass, lambda: not manager.connected, "the disconnection")
        simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
        await wait_until(hass, lambda: len(manager.outbox) == 1, "the first alert")
        simulator.box.set_alert(MOTION, "intrusion", True)
        await wait_until(hass, lambda: len(manager.outbox) == 2, "the second alert")

        # Home Assistant restarts with both unacknowledged.
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        manager = manager_of(entry)
        assert len(manager.outbox) == 2
        simulator.box.set_alert(FRONT_DOOR, "intrusion", False)
        await wait_until(hass, lambda: len(manager.outbox) == 3, "the cleared alert")

        # The portal comes back on the same port and database.
        await real_portal.start()
        await wait_until(hass, lambda: manager.connected, "the reconnection")
        await wait_until(hass, lambda: not manager.outbox, "the acks")

    async with real_portal.core.tx() as db:
        alerts = sorted((a.device_url, a.type, a.active) for a in await db.scalars(select(Alert)))
    # The front door's intrusion raised then cleared is one alert; each is recorded once.
    assert alerts == sorted([(FRONT_DOOR, "intrusion", False), (MOTION, "intrusion", True)])


async def test_every_alert_once_when_the_line_is_cut_mid_frame(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    real_portal: Portal,
    simulator: BoxSimulator,
) -> None:
    """An alert truncated on its way, then an acknowledgement truncated on its way back."""
    entry = init_integration
    proxy = CuttingProxy(real_portal.port)
    await proxy.start()
    try:
        await _linked_and_granted(hass, entry, real_portal, proxy.url)
        manager = manager_of(entry)
        with patch(BACKOFF_DELAY, return_value=0.05):
            # The portal receives half of the alert frame: it has nothing to record.
            proxy.cut(UPSTREAM, b'"type":"alert"')
            simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
            await wait_until(hass, lambda: proxy.cuts, "the cut alert")
            await wait_until(hass, lambda: manager.connected and not manager.outbox, "the resend")

            # The portal records the alert; half of its ack reaches HA, which sends it again.
            proxy.cut(DOWNSTREAM, b'"type":"ack"')
            simulator.box.set_alert(MOTION, "intrusion", True)
            await wait_until(hass, lambda: len(proxy.cuts) == 2, "the cut ack")
            await wait_until(hass, lambda: manager.connected and not manager.outbox, "the resend")
    finally:
        await proxy.stop()

    assert [direction for direction, _ in proxy.cuts] == [UPSTREAM, DOWNSTREAM]
    # Both alerts crossed whole a second time, after the reconnection.
    cut_alert_id = json.loads(proxy.cuts[0][1])["id"]
    acked_alert_id = json.loads(proxy.cuts[1][1])["payload"]["id"]
    upstream = [json.loads(text) for direction, text in proxy.frames if direction == UPSTREAM]
    sent = [frame["id"] for frame in upstream]
    assert sent.count(cut_alert_id) == 1
    assert sent.count(acked_alert_id) == 2
    # Each new connection's welcome named the snapshot the portal held, the one Home
    # Assistant holds too: it was sent once, when monitoring was granted.
    kinds = [frame["type"] for frame in upstream]
    assert kinds.count("hello") == 3 and kinds.count("snapshot") == 1
    async with real_portal.core.tx() as db:
        alerts = sorted((a.device_url, a.type, a.active) for a in await db.scalars(select(Alert)))
    assert alerts == sorted([(FRONT_DOOR, "intrusion", True), (MOTION, "intrusion", True)])
