"""Real boxes' setup dumps, served verbatim by the simulator, read by the real pyoverkiz.

The 2026 TaHoma with a Sonos bridge lists ``ogp`` devices without definition, controllable
name or type, and the box's own parts (stacks, bridges, Wi-Fi); the Connexoon pairs products
made of sub-devices (``#1``, ``#2``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import logging
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_TOKEN, CONF_VERIFY_SSL
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN, SETUP_REFRESH_INTERVAL

from .common import PIN, device_of, state_of, tick
from .conftest import TOKEN

DUMPS = Path(__file__).parents[1] / "dumps"
SONOS = "devices_2026_sonos.json"
SUB_DEVICES = "devices_sub_devices.json"
SHUTTER = f"io://{PIN}/16572312"
VALVE = f"io://{PIN}/12345678"
GARDEN = f"io://{PIN}/4567890"
IO_STACK = f"io://{PIN}/6354142"
WIFI = f"internal://{PIN}/wifi/0"
BRIDGE = f"ogp://{PIN}/00000BE8"
SPEAKERS = [f"ogp://{PIN}/0003FEF3", f"ogp://{PIN}/0003FEF4"]


@pytest.fixture
def dump() -> str:
    """The dump the simulator serves (override per test)."""
    return SONOS


@pytest.fixture
async def simulator(tmp_path: Path, dump: str) -> AsyncIterator[BoxSimulator]:
    """The dump's box, served verbatim."""
    sim = BoxSimulator(
        str(DUMPS / dump), token=TOKEN, port=0, state_dir=tmp_path, move_seconds=0.05
    )
    await sim.start()
    yield sim
    await sim.stop()


def product_identifiers(hass: HomeAssistant, entry_id: str) -> set[str]:
    """Identifiers of the entry's registry devices."""
    return {
        identifier
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
        for _, identifier in device.identifiers
    }


async def test_config_flow_loads_a_box_with_incomplete_devices(
    hass: HomeAssistant, simulator: BoxSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Set up through the config flow: loads, the incomplete speakers skipped quietly."""
    caplog.set_level(logging.DEBUG, logger="custom_components.somfy_pro")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: f"{simulator.host}:{simulator.port}",
            CONF_TOKEN: TOKEN,
            CONF_VERIFY_SSL: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert product_identifiers(hass, entry.entry_id) == {
        PIN,
        SHUTTER,
        f"io://{PIN}/11803671",
        f"rts://{PIN}/16731054",
        VALVE,
    }
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "4"
    assert state_of(hass, "sensor", f"{SHUTTER}_radio_level") == "72"
    skipped = [r.getMessage() for r in caplog.records if "Skipping device" in r.getMessage()]
    assert len(skipped) == 2
    assert all(any(url in line for line in skipped) for url in SPEAKERS)
    ours = ("pyoverkiz", "custom_components.somfy_pro")
    assert not [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(ours)
    ]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_box_parts_follow_no_entity(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Events of the box's parts change nothing; products keep following theirs."""
    registry = er.async_get(hass)
    entities = {
        e.unique_id for e in er.async_entries_for_config_entry(registry, init_integration.entry_id)
    }
    assert not [
        uid
        for uid in entities
        if uid.startswith((IO_STACK, WIFI, BRIDGE, "zigbee:", "homekit:", "hue:"))
    ]
    simulator.box.set_states(WIFI, {"internal:SignalStrengthState": 40})
    simulator.box.set_states(BRIDGE, {"core:StatusState": "unavailable"})
    simulator.box.set_states(SHUTTER, {"core:RSSILevelState": 64.0})
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{SHUTTER}_radio_level") == "64"
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "0"
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "4"


@pytest.mark.parametrize("dump", [SUB_DEVICES])
async def test_sub_devices_one_product_one_radio_level(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two registry devices for four sub-devices, stable through re-reads and events."""
    assert product_identifiers(hass, init_integration.entry_id) == {PIN, VALVE, GARDEN}
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "2"
    registry = er.async_get(hass)
    levels = sorted(
        e.unique_id
        for e in er.async_entries_for_config_entry(registry, init_integration.entry_id)
        if e.unique_id.endswith("_radio_level")
    )
    assert levels == [f"{VALVE}#2_radio_level", f"{GARDEN}#1_radio_level"]
    updates: list[Event] = []
    hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, updates.append)
    simulator.box.set_states(f"{VALVE}#2", {"core:RSSILevelState": 55.0})
    simulator.box.set_states(f"{GARDEN}#2", {"core:StatusState": "unavailable"})
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{VALVE}#2_radio_level") == "55"
    assert state_of(hass, "binary_sensor", f"{GARDEN}#2_online") == "off"
    assert state_of(hass, "binary_sensor", f"{GARDEN}#1_online") == "on"
    for _ in range(2):
        await tick(hass, freezer, SETUP_REFRESH_INTERVAL.total_seconds() + 1)
    assert updates == []
    valve = device_of(hass, VALVE)
    assert (valve.name, valve.model_id, valve.sw_version) == (
        "Bedroom radiator",
        "io:HeatingValveIOComponent",
        "5136025X07",
    )
