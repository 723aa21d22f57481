"""Home Assistant's own overkiz integration, a consumer nobody here wrote, accepts our box."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from box_simulator.server import BoxSimulator

from .conftest import TOKEN

SHUTTER = "io://1234-5678-9012/11803671"
SMOKE = "io://1234-5678-9012/10811422"


async def setup_overkiz(hass: HomeAssistant, sim: BoxSimulator) -> MockConfigEntry:
    """Add a local-API overkiz entry pointing at the simulator, as its config flow would."""
    entry = MockConfigEntry(
        domain="overkiz",
        unique_id=sim.box.pin,
        data={
            "host": f"{sim.host}:{sim.port}",
            "token": TOKEN,
            "verify_ssl": False,
            "hub": "somfy_europe",
            "api_type": "local",
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """Entity id of an overkiz entity by its unique id (the device URL, plus a key)."""
    found = er.async_get(hass).async_get_entity_id(platform, "overkiz", unique_id)
    assert found is not None, f"no {platform} entity for {unique_id}"
    return found


async def poll(hass: HomeAssistant) -> None:
    """Let the overkiz coordinator fetch events (it polls the local API every 5 s)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_overkiz_loads_covers_and_sensors(
    hass: HomeAssistant, simulator: BoxSimulator
) -> None:
    entry = await setup_overkiz(hass, simulator)
    assert entry.state is ConfigEntryState.LOADED

    covers = hass.states.async_entity_ids("cover")
    assert len(covers) == 5  # 3 roller shutters, the venetian blind, the RTS awning
    shutter = hass.states.get(entity_id(hass, "cover", SHUTTER))
    assert shutter is not None
    assert shutter.attributes["current_position"] == 100  # closure 0 % == fully open
    bedroom = hass.states.get(entity_id(hass, "cover", "io://1234-5678-9012/13420512"))
    assert bedroom is not None
    assert bedroom.state == "closed"

    smoke = hass.states.get(entity_id(hass, "binary_sensor", f"{SMOKE}-core:SmokeState"))
    assert smoke is not None
    assert smoke.state == STATE_OFF
    battery = hass.states.get(entity_id(hass, "sensor", f"{SMOKE}-core:BatteryLevelState"))
    assert battery is not None
    assert battery.state == "100"


async def test_overkiz_follows_box_events(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    await setup_overkiz(hass, simulator)
    smoke_id = entity_id(hass, "binary_sensor", f"{SMOKE}-core:SmokeState")

    simulator.box.set_alert(SMOKE, "smoke", True)
    await poll(hass)
    assert hass.states.get(smoke_id).state == STATE_ON

    shutter_id = entity_id(hass, "cover", SHUTTER)
    await hass.services.async_call(
        "cover", "set_cover_position", {"entity_id": shutter_id, "position": 30}, blocking=True
    )
    for _ in range(40):  # the shutter moves for move_seconds on the box
        if simulator.box.devices[SHUTTER].state("core:ClosureState") == 70:
            break
        await asyncio.sleep(0.05)
    assert simulator.box.devices[SHUTTER].state("core:ClosureState") == 70
    await poll(hass)
    assert hass.states.get(shutter_id).attributes["current_position"] == 30


async def test_overkiz_unloads(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    entry = await setup_overkiz(hass, simulator)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
