"""Box data the portal failed to store goes again as one whole snapshot (scripted peer).

Snapshot parts and device updates are not kept until acknowledged; the portal answers
``internal_error`` to one it could not handle (its database busy). Real time runs here (no
frozen clock): the resend's timer fires by itself, and every wait is bounded in real time.
The real portal's side of it is in ``test_portal_delivery``.
"""

from __future__ import annotations

import asyncio
import threading

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.portal_monitoring import RESYNC_DELAY

from .common import SHUTTER
from .portal_channel_common import _grant, linked, peer
from .portal_common import wait_until
from .portal_peer import FakePortal, frame

__all__ = ["linked", "peer"]

# Long enough for a resend that is not due to show: a refusal is answered after RESYNC_DELAY.
QUIET = RESYNC_DELAY * 1.5
# A resend that is due comes RESYNC_DELAY after the refusal; this only bounds a hang.
DUE = RESYNC_DELAY + 10


async def real_pause(seconds: float) -> None:
    """Let real time pass with the event loop running (in a thread: no clock to freeze)."""
    await asyncio.get_running_loop().run_in_executor(None, threading.Event().wait, seconds)


async def refuse(peer: FakePortal, ref: str, code: str = "internal_error") -> None:
    await peer.send(frame("error", {"code": code, "message": "busy", "ref": ref}))


async def read_by_home_assistant(hass: HomeAssistant, peer: FakePortal) -> None:
    """Frames sent before this were handled: Home Assistant answers in order."""
    errors = len(peer.of_type("error"))
    await peer.send(frame("ping_check", {}))  # unknown: answered with an error frame
    await wait_until(hass, lambda: len(peer.of_type("error")) > errors, "the answer")


async def device_update(
    hass: HomeAssistant, entry: MockConfigEntry, peer: FakePortal, simulator: BoxSimulator
) -> str:
    """A change on the box, streamed as a device update; its frame id."""
    before = len(peer.of_type("device_update"))
    simulator.box.set_rssi(SHUTTER, 10 + before)
    await entry.runtime_data.coordinator.async_refresh()
    await wait_until(hass, lambda: len(peer.of_type("device_update")) > before, "an update")
    update_id: str = peer.of_type("device_update")[-1]["id"]
    return update_id


async def test_a_burst_of_refusals_gives_one_snapshot(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal, simulator: BoxSimulator
) -> None:
    await _grant(hass, linked, peer)
    first = peer.of_type("snapshot")[0]
    update_id = await device_update(hass, linked, peer, simulator)

    # Refusals that say nothing was lost: another error than a failure to handle the
    # frame, a frame Home Assistant never sent. No snapshot for those.
    await refuse(peer, update_id, "invalid_payload")
    await refuse(peer, "never-sent")
    await read_by_home_assistant(hass, peer)
    await real_pause(QUIET)
    assert len(peer.of_type("snapshot")) == 1

    # The portal's database busy: the snapshot and the update refused, the update twice.
    for ref in (first["id"], update_id, update_id):
        await refuse(peer, ref)
    await wait_until(hass, lambda: len(peer.of_type("snapshot")) >= 2, "the snapshot", DUE)
    again = peer.of_type("snapshot")[1]["payload"]
    assert again["snapshot_id"] != first["payload"]["snapshot_id"]
    shutter = next(d for d in again["devices"] if d["url"] == SHUTTER)
    assert shutter["rssi"] == 10  # what the refused update said, in the new snapshot
    await real_pause(QUIET)
    assert len(peer.of_type("snapshot")) == 2  # one for the whole burst

    # A refusal of what was sent before that snapshot: made good by it already.
    await refuse(peer, update_id)
    await read_by_home_assistant(hass, peer)
    await real_pause(QUIET)
    assert len(peer.of_type("snapshot")) == 2
    # Streaming goes on as before; a later refusal gives a snapshot again.
    await refuse(peer, await device_update(hass, linked, peer, simulator))
    await wait_until(hass, lambda: len(peer.of_type("snapshot")) >= 3, "a third snapshot", DUE)
    await real_pause(QUIET)
    assert len(peer.of_type("snapshot")) == 3


async def test_a_resend_due_at_unload_is_dropped(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    simulator: BoxSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unloaded before the snapshot is due: no timer left behind.

    Home Assistant's test harness fails a test that ends with a timer pending: this one
    ends before the snapshot would have been due.
    """
    await _grant(hass, linked, peer)
    update_id = await device_update(hass, linked, peer, simulator)
    await refuse(peer, update_id)
    await wait_until(hass, lambda: f"rejected frame {update_id}" in caplog.text, "the refusal")
    assert await hass.config_entries.async_unload(linked.entry_id)
    await hass.async_block_till_done()
    assert len(peer.of_type("snapshot")) == 1
