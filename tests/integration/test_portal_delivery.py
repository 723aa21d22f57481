"""Delivery through the channel: a long backlog, a busy portal database, an interrupted action.

Real time and the real portal (SQLite) where the portal matters; the figures measured are
printed, never asserted. Every wait ends on what it waits for (only a hang fails it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
import threading
import time
from unittest.mock import patch
import uuid

from freezegun.api import real_monotonic
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from sqlalchemy import select

from box_simulator.server import BoxSimulator
from companion_server.hub.outbox import PAGE, queue_frame
from companion_server.models import Alert, Device, PortalFrame, ReceivedFrame
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.installer_actions import InstallerActions
from custom_components.somfy_pro.portal_delivery import ERROR_INTERRUPTED
from custom_components.somfy_pro.portal_monitoring import RESYNC_DELAY
from tests.companion.helpers import HANG_GUARD_SECONDS
from tests.portal_app import Portal

from .common import FRONT_DOOR, SHUTTER
from .portal_common import manager_of, wait_until
from .real_portal_common import real_portal
from .remote_fixtures import linked_entry, no_portal_channel
from .test_portal_real import _linked_and_granted
from .write_lock import WriteLock

__all__ = ["linked_entry", "no_portal_channel", "real_portal"]

# Several pages of the portal's outbox, the last one partial.
BACKLOG = 3 * PAGE + 50
# The portal gives up on SQLite's write lock sooner than by default: a refusal comes quickly.
IMPATIENT = {"database_busy_seconds": 0.5}


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    """The real portal, quick to give up on SQLite's write lock (:data:`IMPATIENT`)."""
    impatient = Portal(tmp_path / "portal.db", settings=IMPATIENT)
    await impatient.start()
    yield impatient
    await impatient.stop()


async def alerts_on(portal: Portal) -> list[tuple[str, bool]]:
    """The alerts the portal stored: device, whether active."""
    async with portal.core.tx() as db:
        return [(a.device_url, a.active) for a in await db.scalars(select(Alert))]


async def logged(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, what: str, *texts: str
) -> None:
    """Wait until each of ``texts`` is in the log (``what`` it means), a hang's bound at most."""
    await wait_until(
        hass, lambda: all(text in caplog.text for text in texts), what, seconds=HANG_GUARD_SECONDS
    )


async def until(
    hass: HomeAssistant,
    check: Callable[[], Awaitable[bool]],
    what: str,
    seconds: float = HANG_GUARD_SECONDS,
) -> None:
    """Wait until ``check()`` (what the portal's database says), ``seconds`` at most.

    Counted on the real clock and paused in a thread: the bound holds even where a test
    froze time (the event loop's clock with it).
    """
    deadline = real_monotonic() + seconds
    while not await check():
        assert real_monotonic() < deadline, f"never happened: {what}"
        # A pause between looks: polling the portal's database without one would take the
        # event loop from the portal and Home Assistant.
        await hass.async_block_till_done()
        await asyncio.get_running_loop().run_in_executor(None, threading.Event().wait, 0.05)


async def queue_requests(portal: Portal, installation_id: int, count: int) -> None:
    """Frames for Home Assistant, with the notice the portal's services give after theirs."""
    async with portal.core.tx() as db:
        for _ in range(count):
            queue_frame(
                db,
                installation_id,
                portal.core.now(),
                "request_monitoring",
                {"request_id": str(uuid.uuid4()), "company": "Test Installers", "at": None},
            )
    assert portal.core.hub is not None
    await portal.core.hub.frames_pending(installation_id)


async def test_a_long_backlog_is_received_whole_after_a_reconnect(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    real_portal: Portal,
    simulator: BoxSimulator,
) -> None:
    entry = init_integration
    reg = await _linked_and_granted(hass, entry, real_portal)
    manager = manager_of(entry)
    # Home Assistant's test harness runs the loop in debug mode, which records the stack of
    # every future made: of each of the portal's SQLite calls, here thousands. Not a mode
    # either side runs in, and it makes this test several times longer.
    loop = asyncio.get_running_loop()
    loop.set_debug(False)
    with patch("custom_components.somfy_pro.portal_connection.backoff_delay", return_value=0.05):
        await real_portal.stop()
        await wait_until(hass, lambda: not manager.connected, "the disconnection")
        # Meanwhile: an alert in Home Assistant, hundreds of frames on the portal (whether
        # Home Assistant is back before they are committed or after, they go out).
        simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
        await wait_until(hass, lambda: len(manager.outbox) == 1, "the alert kept")
        await real_portal.start()
        await queue_requests(real_portal, reg.installation_id, BACKLOG)
        started = time.monotonic()
        await wait_until(hass, lambda: manager.connected, "the reconnection", seconds=60)
        ready = time.monotonic() - started

        async def all_acked() -> bool:
            return (
                await real_portal.count(PortalFrame, PortalFrame.acked_at.is_(None)) == 0
                and not manager.outbox
            )

        await until(hass, all_acked, "every frame acknowledged")
    print(
        f"\n{BACKLOG} frames waiting: ready after {ready:.2f} s, "
        f"all acknowledged after {time.monotonic() - started:.2f} s"
    )
    # Monitoring is granted already: each request was answered with a consent, all received.
    assert await real_portal.count(ReceivedFrame) >= BACKLOG + 1
    assert await alerts_on(real_portal) == [(FRONT_DOOR, True)]


async def test_an_alert_the_portal_failed_to_store_is_sent_again_on_the_live_connection(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    portal: Portal,
    simulator: BoxSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another writer holds the portal's database past its busy bound; the connection stays up."""
    entry = init_integration
    await _linked_and_granted(hass, entry, portal)
    manager = manager_of(entry)
    with (
        patch("custom_components.somfy_pro.portal_delivery.ACK_TIMEOUT", 0.5),
        WriteLock(portal.path) as lock,
    ):
        simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
        await wait_until(hass, lambda: len(manager.outbox) == 1, "the alert sent")
        await logged(
            hass, caplog, "the portal refusing the alert", "database busy, alert frame not handled"
        )
        lock.release()
        released = time.monotonic()
        await wait_until(
            hass, lambda: not manager.outbox, "the acknowledgement", seconds=HANG_GUARD_SECONDS
        )
    print(f"\nalert stored {time.monotonic() - released:.1f} s after the database was free")
    assert manager.connected
    assert manager.attempt == 0  # no reconnection was needed
    assert await alerts_on(portal) == [(FRONT_DOOR, True)]


async def test_an_acknowledgement_the_portal_failed_to_store_is_sent_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    portal: Portal,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The portal sends a frame once per connection: a lost ack must not leave it waiting."""
    entry = init_integration
    reg = await _linked_and_granted(hass, entry, portal)
    manager = manager_of(entry)
    with (
        patch("custom_components.somfy_pro.portal_delivery.ACK_TIMEOUT", 0.5),
        WriteLock(portal.path, now=False) as lock,
    ):
        # Queued before the lock; sent while it is held (sending only reads).
        async with portal.core.tx() as db:
            queue_frame(
                db,
                reg.installation_id,
                portal.core.now(),
                "request_monitoring",
                {"request_id": "late-ack", "company": "Test Installers", "at": None},
            )
        lock.take()
        assert portal.core.hub is not None
        await portal.core.hub.frames_pending(reg.installation_id)
        await logged(
            hass,
            caplog,
            "the portal failing to record the acknowledgement",
            "database busy, ack frame not handled",
        )
        lock.release()

        async def acked() -> bool:
            return await portal.count(PortalFrame, PortalFrame.acked_at.is_(None)) == 0

        await until(hass, acked, "the frame acknowledged on the live connection")
    assert manager.connected
    assert manager.attempt == 0  # acknowledged without a reconnection


async def test_box_data_the_portal_failed_to_store_goes_again_as_a_snapshot(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    portal: Portal,
    simulator: BoxSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A device update is not kept until acknowledged: a refused one must not be lost.

    No frozen clock: the coordinator is refreshed as its interval would, and the snapshot
    that makes the update good is due on the real clock.
    """
    entry = init_integration
    await _linked_and_granted(hass, entry, portal)
    manager = manager_of(entry)

    async def radio_level_stored() -> bool:
        async with portal.core.tx() as db:
            device = await db.scalar(select(Device).where(Device.url == SHUTTER))
        return device is not None and device.rssi == 7

    assert not await radio_level_stored()
    with WriteLock(portal.path):
        simulator.box.set_rssi(SHUTTER, 7)
        await entry.runtime_data.coordinator.async_refresh()
        # Held past the portal's own second try, until Home Assistant has the refusal.
        await logged(
            hass,
            caplog,
            "the portal refusing the update",
            "database busy, device_update frame not handled",
            "(internal_error)",
        )
        assert not await radio_level_stored()
    released = time.monotonic()
    # Nothing else changes on the box: only the snapshot due after the refusal brings it.
    await until(hass, radio_level_stored, "the radio level on the portal", RESYNC_DELAY + 20)
    print(f"\nradio level stored {time.monotonic() - released:.1f} s after the release")
    assert manager.connected
    assert manager.attempt == 0  # no reconnection was needed


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
