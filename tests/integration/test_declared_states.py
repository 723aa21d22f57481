"""States real boxes declare but report only once something happens, on real-shaped dumps.

Each dump in ``tests/dumps`` is a box's raw ``GET setup`` answer, served verbatim by the
simulator over HTTPS to the real pyoverkiz. Its sensors declare ``core:SensorDefectState``,
``core:BatteryState`` or ``core:BatteryLevelState`` in their definition without reporting them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN, EVENT_ALERT
from custom_components.somfy_pro.diagnostics import async_get_config_entry_diagnostics

from .common import state_of, tick
from .conftest import TOKEN, entry_data

DUMPS = Path(__file__).parents[1] / "dumps"
SWITCH_2024 = DUMPS / "declared_tahoma_switch_2024.json"
TAHOMA_2021 = DUMPS / "declared_tahoma_v2_2021.json"


def dump_pin(dump: Path) -> str:
    """The box PIN of a dump."""
    gateway_id: str = json.loads(dump.read_text(encoding="utf-8"))["gateways"][0]["gatewayId"]
    return gateway_id


@pytest.fixture
async def dump_entry(
    hass: HomeAssistant, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[BoxSimulator, MockConfigEntry]]:
    """The dump of the indirect parameter served by the simulator, and the entry set up on it."""
    dump: Path = request.param
    sim = BoxSimulator(scenario=str(dump), token=TOKEN, port=0, state_dir=tmp_path)
    await sim.start()
    pin = dump_pin(dump)
    entry = MockConfigEntry(domain=DOMAIN, title=f"Box {pin}", unique_id=pin, data=entry_data(sim))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    yield sim, entry
    if hass.config_entries.async_get_entry(entry.entry_id) is not None:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    await sim.stop()


def unique_ids(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """Unique ids of the entry's entities (a list: a duplicate would show twice)."""
    registry = er.async_get(hass)
    return sorted(e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id))


def alerts_of(events: list[Any]) -> list[tuple[str, str]]:
    """(device URL, event type) of captured alert events, sorted."""
    return sorted((e.data["device_url"], e.data["type"]) for e in events)


@pytest.mark.parametrize("dump_entry", [SWITCH_2024], indirect=True)
async def test_tahoma_switch_2024(
    hass: HomeAssistant,
    dump_entry: tuple[BoxSimulator, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """io sensors declaring a defect and a battery state: entities at once, alerts when due."""
    sim, entry = dump_entry
    pin = dump_pin(SWITCH_2024)
    smoke, door, shutter = (f"io://{pin}/{a}" for a in ("4873110", "9520347", "1176093"))
    events = async_capture_events(hass, EVENT_ALERT)
    # Declared, not reported: there, off, and no alert.
    assert state_of(hass, "binary_sensor", f"{smoke}_problem") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{door}_problem") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{door}_battery") == STATE_OFF
    assert state_of(hass, "sensor", f"{pin}_active_alerts") == "0"
    before = unique_ids(hass, entry)
    assert not [i for i in before if i.startswith(shutter) and "battery" in i]

    # The smoke detector reports a defect, the door a low battery: alerts, same entities.
    sim.box.set_states(smoke, {"core:SensorDefectState": "dead"})
    sim.box.set_states(door, {"core:BatteryState": "low"})
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{smoke}_problem") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{door}_battery") == STATE_ON
    assert alerts_of(events) == [(smoke, "sensor_defect"), (door, "battery_low")]
    assert unique_ids(hass, entry) == before

    # The shutter reports a state it never declared: its entity appears, once.
    sim.box.set_states(shutter, {"core:BatteryLevelState": 91})
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{shutter}_battery_level") == "91"
    sim.box.set_states(shutter, {"core:BatteryLevelState": 90})
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{shutter}_battery_level") == "90"
    # The periodic re-read (it now has the state) adds nothing more.
    await tick(hass, freezer, 5 * 60)
    assert unique_ids(hass, entry) == sorted([*before, f"{shutter}_battery_level"])

    # Diagnostics keep what each device declares, reported or not.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    (door_diag,) = [d for d in diagnostics["devices"] if d["url"].endswith("/9520347")]
    assert "core:SensorDefectState" in door_diag["declared_states"]
    assert "core:SensorDefectState" not in door_diag["states"]


@pytest.mark.parametrize("dump_entry", [TAHOMA_2021], indirect=True)
async def test_tahoma_2021_alarm_sensors(
    hass: HomeAssistant,
    dump_entry: tuple[BoxSimulator, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """An RTDS smoke detector and a motion sensor with declared battery states."""
    sim, entry = dump_entry
    pin = dump_pin(TAHOMA_2021)
    rtds_smoke = f"rtds://{pin}/193412"
    motion = f"io://{pin}/7741290"
    events = async_capture_events(hass, EVENT_ALERT)
    assert state_of(hass, "binary_sensor", f"{rtds_smoke}_smoke") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{rtds_smoke}_battery") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{rtds_smoke}_problem") == STATE_OFF
    # A battery level declared but not reported yet: unknown, not unavailable.
    assert state_of(hass, "sensor", f"{motion}_battery_level") == STATE_UNKNOWN
    before = unique_ids(hass, entry)

    sim.box.set_states(rtds_smoke, {"core:BatteryState": "low"})
    sim.box.set_states(motion, {"core:BatteryLevelState": 12})
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{rtds_smoke}_battery") == STATE_ON
    assert state_of(hass, "sensor", f"{motion}_battery_level") == "12"
    assert alerts_of(events) == [(rtds_smoke, "battery_low")]
    assert unique_ids(hass, entry) == before


@pytest.mark.parametrize("dump_entry", [SWITCH_2024, TAHOMA_2021], indirect=True)
async def test_diagnostics_replay_keeps_declared_entities(
    hass: HomeAssistant, dump_entry: tuple[BoxSimulator, MockConfigEntry], tmp_path: Path
) -> None:
    """The diagnostics download, replayed, gives the products the same entities again."""
    _, entry = dump_entry
    download = tmp_path / "diagnostics.json"
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    download.write_text(json.dumps({"data": diagnostics}), encoding="utf-8")
    pin = str(entry.unique_id)
    before = product_entities(hass, entry, pin)
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    replayed = BoxSimulator(scenario=str(download), token=TOKEN, port=0, state_dir=tmp_path)
    await replayed.start()
    try:
        again = MockConfigEntry(
            domain=DOMAIN, title="Replayed", unique_id=replayed.box.pin, data=entry_data(replayed)
        )
        again.add_to_hass(hass)
        assert await hass.config_entries.async_setup(again.entry_id)
        await hass.async_block_till_done()
        assert product_entities(hass, again, replayed.box.pin) == before
        assert await hass.config_entries.async_unload(again.entry_id)
        await hass.async_block_till_done()
    finally:
        await replayed.stop()


def product_entities(hass: HomeAssistant, entry: MockConfigEntry, pin: str) -> dict[str, str]:
    """Product entities' unique ids (PIN left out) and states."""
    registry = er.async_get(hass)
    return {
        e.unique_id.replace(pin, "PIN"): str(
            state.state if (state := hass.states.get(e.entity_id)) else None
        )
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if "://" in e.unique_id
    }
