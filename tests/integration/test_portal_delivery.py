"""Delivery through the channel: a long backlog, a busy portal database, an interrupted action.

Real time and the real portal (SQLite) where the portal matters; the figures measured are
printed, never asserted.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from unittest.mock import patch
import uuid

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from sqlalchemy import select

from box_simulator.server import BoxSimulator
from companion_server.hub.outbox import queue_frame
from companion_server.models import Alert, PortalFrame, ReceivedFrame
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.installer_actions import InstallerActions
from custom_components.somfy_pro.portal_delivery import ERROR_INTERRUPTED
from tests.portal_app import Portal

from .common import FRONT_DOOR
from .portal_common import manager_of, wait_until
from .real_portal_common import real_portal
from .remote_fixtures import linked_entry, no_portal_channel
from .test_portal_real import _linked_and_granted

__all__ = ["linked_entry", "no_portal_channel", "real_portal"]

BACKLOG = 2000


async def test_a_long_backlog_is_received_whole_after_a_reconnect(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    real_portal: Portal,
    simulator: BoxSimulator,
) -> None:
    entry = init_integration
    reg = await _linked_and_granted(hass, entry, real_portal)
    manager = manager_of(entry)
    with patch("custom_components.somfy_pro.portal_connection.backoff_delay", return_value=0.05):
        await real_portal.stop()
        await wait_until(hass, lambda: not manager.connected, "the disconnection")
        # Meanwhile: an alert in Home Assistant, thousands of frames on the portal.
        simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
        await wait_until(hass, lambda: len(manager.outbox) == 1, "the alert kept")
        await real_portal.start()
        async with real_portal.core.tx() as db:
            for _ in range(BACKLOG):
                queue_frame(
                    db,
                    reg.installation_id,
                    real_portal.core.now(),
                    "request_monitoring",
                    {"request_id": str(uuid.uuid4()), "company": "Test Installers", "at": None},
                )
        started = time.monotonic()
        await wait_until(hass, lambda: manager.connected, "the reconnection", seconds=60)
        ready = time.monotonic() - started

        async def all_acked() -> bool:
            return (
                await real_portal.count(PortalFrame, PortalFrame.acked_at.is_(None)) == 0
                and not manager.outbox
            )

        # Bounded in real time, not in rounds: a loaded machine takes more rounds.
        deadline = time.monotonic() + 600
        while not await all_acked():
            assert time.monotonic() < deadline, "timed out waiting for every frame acknowledged"
            await wait_until(hass, lambda: True)
    print(
        f"\n{BACKLOG} frames waiting: ready after {ready:.2f} s, "
        f"all acknowledged after {time.monotonic() - started:.2f} s"
    )
    # Monitoring is granted already: each request was answered with a consent, all received.
    assert await real_portal.count(ReceivedFrame) >= BACKLOG + 1
    async with real_portal.core.tx() as db:
        alerts = [(a.device_url, a.active) for a in await db.scalars(select(Alert))]
    assert alerts == [(FRONT_DOOR, True)]


async def test_an_alert_the_portal_failed_to_store_is_sent_again_on_the_live_connection(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    real_portal: Portal,
    simulator: BoxSimulator,
) -> None:
    """Another writer holds the portal's database for 15 s; the connection stays up."""
    entry = init_integration
    await _linked_and_granted(hass, entry, real_portal)
    manager = manager_of(entry)
    writer = sqlite3.connect(real_portal.path, isolation_level=None, timeout=30)
    try:
        writer.execute("BEGIN IMMEDIATE")
        simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
        await wait_until(hass, lambda: len(manager.outbox) == 1, "the alert sent")
        await asyncio.sleep(15)
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    released = time.monotonic()
    await wait_until(hass, lambda: not manager.outbox, "the acknowledgement", seconds=60)
    print(f"\nalert stored {time.monotonic() - released:.1f} s after the database was free")
    assert manager.connected
    assert manager.attempt == 0  # no reconnection was needed
    async with real_portal.core.tx() as db:
        alerts = [(a.device_url, a.active) for a in await db.scalars(select(Alert))]
    assert alerts == [(FRONT_DOOR, True)]


async def test_an_action_acknowledged_then_stopped_ends_interrupted(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    manager = manager_of(linked_entry)
    await hass.services.async_call(
        DOMAIN, "grant_remote_service", {"kinds": ["reboot"]}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    never = asyncio.Event()

    async def box_never_answers(*_args: object) -> None:
        await never.wait()

    frame = {
        "v": 1,
        "id": str(uuid.uuid4()),
        "type": "action",
        "payload": {"action_id": "a-1", "kind": "reboot"},
    }
    with patch.object(InstallerActions, "_async_run", box_never_answers):
        handling = hass.loop.create_task(manager._async_on_frame(frame))
        await wait_until(hass, lambda: "a-1" in manager.delivery.running, "the action accepted")
        # Home Assistant stops before the box answered.
        handling.cancel()
        await asyncio.wait([handling])
        assert await hass.config_entries.async_reload(linked_entry.entry_id)
        await hass.async_block_till_done()
    manager = manager_of(linked_entry)
    results = [f["payload"] for f in manager.outbox if f["type"] == "action_result"]
    assert [(r["action_id"], r["ok"], r["error"]) for r in results] == [
        ("a-1", False, ERROR_INTERRUPTED)
    ]
    audit = linked_entry.runtime_data.remote_service.audit.records
    assert [(r["action_id"], r["ok"], r["error"]) for r in audit if r["type"] == "action"] == [
        ("a-1", False, ERROR_INTERRUPTED)
    ]
    # Reported once: a further restart does not report it again.
    assert await hass.config_entries.async_reload(linked_entry.entry_id)
    await hass.async_block_till_done()
    results = [f for f in manager_of(linked_entry).outbox if f["type"] == "action_result"]
    assert len(results) == 1
