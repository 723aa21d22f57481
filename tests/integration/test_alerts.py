"""Alerts: the event entity, the bus event, the count, and each alert reported once."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.alerts import storage_key
from custom_components.somfy_pro.const import DOMAIN, EVENT_ALERT

from .common import (
    FRONT_DOOR,
    MOTION,
    PIN,
    SMOKE,
    UPSTAIRS_SMOKE,
    device_of,
    entity_id,
    state_of,
    tick,
)
from .conftest import entry_data

# (simulator alert, device, reported alert)
CASES = [
    ("intrusion", FRONT_DOOR, "intrusion"),
    ("intrusion", MOTION, "intrusion"),
    ("tamper", SMOKE, "tamper"),
    ("smoke", SMOKE, "fire"),
    ("battery_low", UPSTAIRS_SMOKE, "battery_low"),
    ("sensor_defect", FRONT_DOOR, "sensor_defect"),
]


def alerts_of(events: list[Event[Any]]) -> list[tuple[str | None, str]]:
    """(device URL, event type) of captured ``somfy_pro_alert`` events."""
    return [(e.data["device_url"], e.data["type"]) for e in events]


@pytest.mark.parametrize(("sim_alert", "device_url", "alert"), CASES)
async def test_alert_raised_and_cleared(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
    sim_alert: str,
    device_url: str,
    alert: str,
) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    event_entity = entity_id(hass, "event", f"{PIN}_alerts")
    assert hass.states.get(event_entity).state == STATE_UNKNOWN
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "0"

    simulator.box.set_alert(device_url, sim_alert, True)
    await tick(hass, freezer)
    assert alerts_of(events) == [(device_url, alert)]
    device = device_of(hass, device_url)
    assert events[0].data["device_id"] == device.id
    assert events[0].data["device_name"] == device.name
    assert events[0].data["active"] is True
    assert events[0].data["alert"] == alert
    state = hass.states.get(event_entity)
    assert state.attributes["event_type"] == alert
    assert state.attributes["device_id"] == device.id
    assert state.attributes["device_url"] == device_url
    assert state.attributes["time"] == events[0].data["time"]
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "1"

    # Nothing new: nothing reported again.
    await tick(hass, freezer)
    assert len(events) == 1

    simulator.box.set_alert(device_url, sim_alert, False)
    await tick(hass, freezer)
    assert alerts_of(events) == [(device_url, alert), (device_url, f"{alert}_cleared")]
    assert hass.states.get(event_entity).attributes["event_type"] == f"{alert}_cleared"
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "0"


async def test_device_offline_alert(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    simulator.box.set_device_online(FRONT_DOOR, False)
    await tick(hass, freezer)
    simulator.box.set_device_online(FRONT_DOOR, True)
    await tick(hass, freezer)
    assert alerts_of(events) == [
        (FRONT_DOOR, "device_offline"),
        (FRONT_DOOR, "device_offline_cleared"),
    ]


async def test_box_offline_alert_and_no_duplicate_after_reconnect(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    simulator.box.set_alert(SMOKE, "smoke", True)
    await tick(hass, freezer)
    await simulator.set_online(False)
    await tick(hass, freezer)
    await tick(hass, freezer)
    box_event = hass.states.get(entity_id(hass, "event", f"{PIN}_alerts"))
    assert box_event.attributes["event_type"] == "box_offline"
    assert box_event.attributes["device_url"] is None
    # The fire is still counted while the box cannot be asked.
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "unavailable"
    await simulator.set_online(True)
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert alerts_of(events) == [
        (SMOKE, "fire"),
        (None, "box_offline"),
        (None, "box_offline_cleared"),
    ]
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "1"


async def test_box_reboot_forgets_listener(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The box forgets the listener; the fire raised meanwhile is reported once."""
    events = async_capture_events(hass, EVENT_ALERT)
    simulator.box.forget_volatile()
    simulator.box.set_alert(SMOKE, "smoke", True)  # no listener: the event is lost
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert alerts_of(events) == [(SMOKE, "fire")]
    assert simulator.box.listeners


async def test_no_duplicate_after_reload(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    simulator.box.set_alert(SMOKE, "smoke", True)
    await tick(hass, freezer)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await tick(hass, freezer)
    assert alerts_of(events) == [(SMOKE, "fire")]
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "1"
    # Cleared while HA was away counts as cleared once.
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    simulator.box.set_alert(SMOKE, "smoke", False)
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert alerts_of(events) == [(SMOKE, "fire"), (SMOKE, "fire_cleared")]


async def test_no_duplicate_after_restart(
    hass: HomeAssistant,
    simulator: BoxSimulator,
    hass_storage: dict[str, Any],
) -> None:
    """HA starts with the alerts it reported before stopping: they are not reported again."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=PIN, data=entry_data(simulator))
    entry.add_to_hass(hass)
    simulator.box.set_alert(SMOKE, "smoke", True)
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    hass_storage[storage_key(entry.entry_id)] = {
        "version": 1,
        "minor_version": 1,
        "key": storage_key(entry.entry_id),
        "data": {"active": [[SMOKE, "fire", "2026-11-23T10:00:00+00:00"]]},
    }
    events = async_capture_events(hass, EVENT_ALERT)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert alerts_of(events) == [(FRONT_DOOR, "intrusion")]
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "2"
    stored = hass_storage[storage_key(entry.entry_id)]["data"]["active"]
    assert [item[:2] for item in stored] == [[FRONT_DOOR, "intrusion"], [SMOKE, "fire"]]
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_alerts_of_removed_entry_are_forgotten(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    simulator.box.set_alert(SMOKE, "smoke", True)
    await tick(hass, freezer)
    assert storage_key(init_integration.entry_id) in hass_storage
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert storage_key(init_integration.entry_id) not in hass_storage


async def test_alerts_of_unpaired_product_are_dropped(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_ALERT)
    simulator.box.set_alert(SMOKE, "smoke", True)
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "1"
    simulator.box.unpair(SMOKE)
    await tick(hass, freezer)
    assert alerts_of(events) == [(SMOKE, "fire")]
    assert state_of(hass, "sensor", f"{PIN}_active_alerts") == "0"
