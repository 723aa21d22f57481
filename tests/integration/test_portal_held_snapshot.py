"""A welcome that names the snapshot the portal holds spares Home Assistant sending it again.

Scripted portal; the digest is the real portal's (``companion_server.hub.protocol``) of the
snapshot Home Assistant sent, so both ends' encodings are checked together.
"""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from companion_server.hub import protocol
from custom_components.somfy_pro.portal_frames import INCOMING_PAYLOADS, WELCOME

from .common import SHUTTER
from .portal_channel_common import _cut, _grant, linked, peer
from .portal_common import manager_of, wait_until
from .portal_peer import FakePortal
from .test_portal_resync import read_by_home_assistant

__all__ = ["linked", "peer"]


async def _reconnect(
    hass: HomeAssistant, entry: MockConfigEntry, peer: FakePortal, freezer: FrozenDateTimeFactory
) -> None:
    """Cut the connection and wait until the portal has welcomed the next one."""
    connections = peer.connections
    await _cut(hass, entry, peer, freezer)
    await wait_until(hass, lambda: manager_of(entry).connected, "the reconnection")
    assert peer.connections == connections + 1
    await read_by_home_assistant(hass, peer)


async def test_the_snapshot_the_portal_holds_is_not_sent_again(
    hass: HomeAssistant,
    linked: MockConfigEntry,
    peer: FakePortal,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _grant(hass, linked, peer)
    held = protocol.snapshot_digest(peer.of_type("snapshot")[-1]["payload"])

    peer.welcome_extra = {"snapshot_digest": held}
    await _reconnect(hass, linked, peer, freezer)
    assert len(peer.of_type("snapshot")) == 1

    # The changes go on from the digest the portal holds.
    simulator.box.set_rssi(SHUTTER, 12)
    await linked.runtime_data.coordinator.async_refresh()
    await wait_until(hass, lambda: peer.of_type("device_update"), "an update")
    step = peer.of_type("device_update")[-1]["payload"]["digest"]
    assert step["from"] == held and step["to"] != held

    # The portal holds another snapshot (the box changed while it was away, or it lost the
    # change): the whole snapshot goes.
    await _reconnect(hass, linked, peer, freezer)
    assert len(peer.of_type("snapshot")) == 2
    resent = peer.of_type("snapshot")[-1]["payload"]
    assert protocol.snapshot_digest(resent) == step["to"]

    # A portal that says nothing, or says it oddly: the snapshot goes too.
    for said in ({}, {"snapshot_digest": held.upper()}, {"snapshot_digest": 5}):
        peer.welcome_extra = said
        count = len(peer.of_type("snapshot"))
        await _reconnect(hass, linked, peer, freezer)
        assert len(peer.of_type("snapshot")) == count + 1, said


def test_an_odd_digest_in_a_welcome_is_no_digest() -> None:
    welcome = {"installation_id": 42, "company": {"id": 7, "name": "Acme"}}
    schema = INCOMING_PAYLOADS[WELCOME]
    assert schema(welcome)["snapshot_digest"] is None
    for odd in (None, "", "x" * 64, "A" * 64, "a" * 63, ["a" * 64], 64):
        assert schema(welcome | {"snapshot_digest": odd})["snapshot_digest"] is None
    assert schema(welcome | {"snapshot_digest": "0a" * 32})["snapshot_digest"] == "0a" * 32
