"""Shared setup of the portal-channel tests: the scripted peer, a linked box, grants, cuts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator

from .common import PIN, tick
from .portal_common import answer_monitoring_request, linked_entry, manager_of, wait_until
from .portal_peer import FakePortal, frame

BEDROOM_SHUTTER = f"io://{PIN}/13420512"  # closed in the simulator's home scenario


@pytest.fixture
async def peer() -> AsyncIterator[FakePortal]:
    """The scripted portal."""
    fake = FakePortal()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def linked(
    hass: HomeAssistant, simulator: BoxSimulator, peer: FakePortal
) -> AsyncIterator[MockConfigEntry]:
    """The box, linked to the scripted portal and connected."""
    entry = linked_entry(simulator, peer.url, FakePortal.TOKEN)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_until(hass, lambda: manager_of(entry).connected, "the channel")
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def _request_monitoring(
    hass: HomeAssistant, peer: FakePortal, request_id: str = "req-1"
) -> dict[str, Any]:
    request = frame(
        "request_monitoring",
        {
            "request_id": request_id,
            "company": "Acme Installers",
            "installer": {"name": "Ivan Installer"},
            "at": "2026-11-23T10:00:00+00:00",
        },
    )
    await peer.send(request)
    await wait_until(
        hass,
        lambda: any(f["payload"].get("id") == request["id"] for f in peer.of_type("ack")),
        "the ack of the request",
    )
    return request


async def _cut(
    hass: HomeAssistant, entry: MockConfigEntry, peer: FakePortal, freezer: FrozenDateTimeFactory
) -> None:
    """Cut the connection; move time on so that Home Assistant reconnects."""
    await peer.drop()
    await wait_until(hass, lambda: not manager_of(entry).connected, "the disconnection")
    await tick(hass, freezer, 2)


async def _grant(hass: HomeAssistant, entry: MockConfigEntry, peer: FakePortal) -> None:
    await _request_monitoring(hass, peer)
    await answer_monitoring_request(hass, entry, "approve")
    await wait_until(hass, lambda: peer.of_type("snapshot"), "a snapshot")
