"""Entities of the ``home`` box: snapshot, and states after changes at the box."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from box_simulator.server import BoxSimulator

from .common import (
    AWNING,
    FRONT_DOOR,
    KITCHEN_SHUTTER,
    PIN,
    REMOTE,
    SHUTTER,
    SMOKE,
    devices_of,
    entities_of,
    entity_id,
    state_of,
    tick,
)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities_snapshot(
    hass: HomeAssistant, init_integration: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    assert entities_of(hass, init_integration.entry_id) == snapshot(name="entities")
    assert devices_of(hass, init_integration.entry_id) == snapshot(name="devices")


async def test_rts_products_get_no_radio_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    unique_ids = set(entities_of(hass, init_integration.entry_id))
    assert not any(uid.startswith(AWNING) for uid in unique_ids)
    assert f"{SHUTTER}_radio_level" in unique_ids
    # An io remote without radio level: online and battery, no radio level.
    assert f"{REMOTE}_online" in unique_ids
    assert f"{REMOTE}_radio_level" not in unique_ids


async def test_radio_level_enabled_quality_disabled_by_default(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    assert state_of(hass, "sensor", f"{SHUTTER}_radio_level") == "82"
    state = hass.states.get(entity_id(hass, "sensor", f"{KITCHEN_SHUTTER}_radio_level"))
    assert state.attributes["unit_of_measurement"] == "%"
    quality = entity_registry.async_get(entity_id(hass, "sensor", f"{SHUTTER}_radio_quality"))
    assert quality.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_radio_level_drops(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    simulator.box.set_rssi(KITCHEN_SHUTTER, 12)
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{KITCHEN_SHUTTER}_radio_level") == "12"


async def test_device_offline_and_back(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    simulator.box.set_device_online(FRONT_DOOR, False)
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{FRONT_DOOR}_online") == STATE_OFF
    assert state_of(hass, "sensor", f"{FRONT_DOOR}_radio_level") == STATE_UNAVAILABLE
    simulator.box.set_device_online(FRONT_DOOR, True)
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{FRONT_DOOR}_online") == STATE_ON
    level = simulator.box.devices[FRONT_DOOR].state("core:RSSILevelState")
    assert state_of(hass, "sensor", f"{FRONT_DOOR}_radio_level") == str(level)


async def test_box_offline_and_back(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await simulator.set_online(False)
    for _ in range(3):
        await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{PIN}_online") == STATE_OFF
    for domain, unique_id in (
        ("sensor", f"{SHUTTER}_radio_level"),
        ("sensor", f"{PIN}_paired_devices"),
        ("binary_sensor", f"{FRONT_DOOR}_online"),
        ("binary_sensor", f"{PIN}_firmware"),
    ):
        assert state_of(hass, domain, unique_id) == STATE_UNAVAILABLE

    # Changes made while HA could not see the box arrive with the full refresh.
    simulator.box.set_rssi(SHUTTER, 33)
    await simulator.set_online(True)
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{PIN}_online") == STATE_ON
    assert state_of(hass, "sensor", f"{SHUTTER}_radio_level") == "33"
    # One line when the box goes away, one when it is back.
    records = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.somfy_pro") and r.levelname in ("ERROR", "INFO")
    ]
    assert [r.levelname for r in records] == ["ERROR", "INFO"]
    # pyoverkiz retried the first failed request only: no log line per cycle while off.
    retries = [r for r in caplog.records if r.getMessage().startswith("Giving up")]
    assert len(retries) <= 2


async def test_firmware_out_of_date(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    assert state_of(hass, "binary_sensor", f"{PIN}_firmware") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{PIN}_activated") == STATE_ON
    simulator.box.set_firmware(False)
    # The gateway is read with the whole setup, every few minutes.
    await tick(hass, freezer, 6 * 60)
    assert state_of(hass, "binary_sensor", f"{PIN}_firmware") == STATE_ON


async def test_sensor_states_follow_the_box(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    simulator.box.set_alert(SMOKE, "battery_low", True)
    simulator.box.set_alert(FRONT_DOOR, "sensor_defect", True)
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{SMOKE}_battery_level") == "8"
    assert state_of(hass, "binary_sensor", f"{SMOKE}_battery") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{FRONT_DOOR}_problem") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{FRONT_DOOR}_intrusion") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{FRONT_DOOR}_contact") == STATE_ON
