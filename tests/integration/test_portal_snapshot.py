"""A box with many products: its snapshot reaches the real portal whole, in frames that fit."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from pathlib import Path

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from sqlalchemy import select

from box_simulator.server import BoxSimulator
from companion_server.models import Device
from custom_components.somfy_pro import portal_frames as frames
from custom_components.somfy_pro.const import DOMAIN
from tests.portal_app import Portal

from .conftest import TOKEN, entry_data
from .cutting_proxy import UPSTREAM, CuttingProxy
from .test_portal_real import _linked_and_granted, wait_for

LARGE_PIN = "2222-3333-4444"  # the PIN of the simulator's ``large`` scenario


@pytest.fixture
async def large_box(tmp_path: Path) -> AsyncIterator[BoxSimulator]:
    """The simulator's 200-product box."""
    sim = BoxSimulator("large", token=TOKEN, port=0, state_dir=tmp_path / "box")
    await sim.start()
    yield sim
    await sim.stop()


async def test_a_large_box_reaches_the_portal_in_frames_that_fit(
    hass: HomeAssistant, large_box: BoxSimulator, tmp_path: Path
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id=LARGE_PIN, data=entry_data(large_box))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    products = set(entry.runtime_data.coordinator.data.devices)
    assert len(products) >= 199  # every product but the box itself

    portal = Portal(tmp_path / "portal.db")
    await portal.start()
    # Through a proxy that records every frame, to measure what Home Assistant sends.
    proxy = CuttingProxy(portal.port)
    await proxy.start()
    try:
        await _linked_and_granted(hass, entry, portal, proxy.url, pin=LARGE_PIN)

        async def every_product() -> bool:
            return await portal.count(Device) == len(products)

        await wait_for(hass, every_product, "every product on the portal")
        async with portal.core.tx() as db:
            assert set(await db.scalars(select(Device.url))) == products

        sent = [(json.loads(text), len(text)) for way, text in proxy.frames if way == UPSTREAM]
        assert max(size for _, size in sent) <= frames.MAX_FRAME_BYTES
        parts = [frame["payload"] for frame, _ in sent if frame["type"] == frames.SNAPSHOT]
        assert len(parts) > 1
        assert len({part["snapshot_id"] for part in parts}) == 1
        assert [part["part"] for part in parts] == list(range(len(parts)))
        assert not [f for f, _ in sent if f["type"] == "error"]
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await proxy.stop()
        await portal.stop()
