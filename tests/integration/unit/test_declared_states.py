"""States a product declares but reports only once something happens, on the mock box client.

``setup_declared_states.json`` holds products as real boxes describe them: a smoke detector
that declares ``core:SensorDefectState``, a door sensor and an alarm (RTDS) smoke detector that
also declare ``core:BatteryState``, a motion sensor that declares ``core:BatteryLevelState``,
none of them reporting these until a defect or a low battery occurs.
"""

from __future__ import annotations

from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.somfy_pro.box_api import Event
from custom_components.somfy_pro.device_trigger import async_get_triggers
from custom_components.somfy_pro.diagnostics import async_get_config_entry_diagnostics
from custom_components.somfy_pro.portal_monitoring import device_payload

from ..common import device_of, entity_id, state_of, tick
from .conftest import PIN, load_setup

HALL_SMOKE = f"io://{PIN}/40000001"
GARAGE_DOOR = f"io://{PIN}/40000002"
KITCHEN_SMOKE = f"rtds://{PIN}/40000003"
MOTION = f"io://{PIN}/40000004"
SHUTTER = f"io://{PIN}/40000005"
FIXTURE = "setup_declared_states.json"


@pytest.fixture
def setup_fixture() -> str:
    """Products declaring states they do not report yet."""
    return FIXTURE


def unique_ids(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """Unique ids of the entry's entities (a list: a duplicate would show twice)."""
    registry = er.async_get(hass)
    return sorted(e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id))


def changed(url: str, **states: object) -> list[Event]:
    """One DeviceStateChangedEvent (state names without the ``core:`` prefix)."""
    return [
        Event(
            name="DeviceStateChangedEvent",
            device_url=url,
            states={f"core:{name}": value for name, value in states.items()},
        )
    ]


async def test_entities_of_declared_states(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Declared states get their entities at once; none is unavailable."""
    ids = unique_ids(hass, init_integration)
    for expected in (
        f"{HALL_SMOKE}_problem",
        f"{GARAGE_DOOR}_problem",
        f"{GARAGE_DOOR}_battery",
        f"{KITCHEN_SMOKE}_problem",
        f"{KITCHEN_SMOKE}_battery",
        f"{MOTION}_problem",
        f"{MOTION}_battery_level",
    ):
        assert expected in ids
    # Nothing wrong is reported: the problem and battery-low sensors are off.
    for url in (HALL_SMOKE, GARAGE_DOOR, KITCHEN_SMOKE, MOTION):
        assert state_of(hass, "binary_sensor", f"{url}_problem") == STATE_OFF
    for url in (GARAGE_DOOR, KITCHEN_SMOKE):
        assert state_of(hass, "binary_sensor", f"{url}_battery") == STATE_OFF
    # A level not reported yet is unknown, not unavailable.
    assert state_of(hass, "sensor", f"{MOTION}_battery_level") == STATE_UNKNOWN
    # The shutter declares nothing more than it reports: no battery, no problem.
    assert not [i for i in ids if i.startswith(SHUTTER) and ("battery" in i or "problem" in i)]


async def test_declared_states_reported_by_events(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The first report of a declared state updates its entity and raises the alert."""
    ids = unique_ids(hass, init_integration)
    bus_events = async_capture_events(hass, "somfy_pro_alert")
    mock_box_client.fetch_events.return_value = [
        *changed(HALL_SMOKE, SensorDefectState="dead"),
        *changed(KITCHEN_SMOKE, BatteryState="low"),
        *changed(MOTION, BatteryLevelState=12),
    ]
    await tick(hass, freezer)
    mock_box_client.fetch_events.return_value = []
    assert state_of(hass, "binary_sensor", f"{HALL_SMOKE}_problem") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{KITCHEN_SMOKE}_battery") == STATE_ON
    assert state_of(hass, "sensor", f"{MOTION}_battery_level") == "12"
    assert sorted((e.data["device_url"], e.data["alert"]) for e in bus_events) == [
        (HALL_SMOKE, "sensor_defect"),
        (KITCHEN_SMOKE, "battery_low"),
    ]
    # The entities were there already: none added, none twice.
    assert unique_ids(hass, init_integration) == ids
    # Back to normal.
    mock_box_client.fetch_events.return_value = [
        *changed(HALL_SMOKE, SensorDefectState="noDefect"),
        *changed(KITCHEN_SMOKE, BatteryState="normal"),
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{HALL_SMOKE}_problem") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{KITCHEN_SMOKE}_battery") == STATE_OFF


async def test_undeclared_state_first_reported_by_an_event(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A known product reporting a state for the first time gets its entity, once."""
    before = unique_ids(hass, init_integration)
    assert f"{SHUTTER}_battery_level" not in before
    mock_box_client.fetch_events.return_value = changed(SHUTTER, BatteryLevelState=87)
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{SHUTTER}_battery_level") == "87"
    # On the shutter's device, with no reload of the entry.
    registry = er.async_get(hass)
    entry = registry.async_get(entity_id(hass, "sensor", f"{SHUTTER}_battery_level"))
    assert entry is not None
    assert entry.device_id == device_of(hass, SHUTTER).id
    mock_box_client.get_setup.assert_awaited_once()
    # The same state again, then a new value: no second entity.
    await tick(hass, freezer)
    mock_box_client.fetch_events.return_value = changed(SHUTTER, BatteryLevelState=86)
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{SHUTTER}_battery_level") == "86"
    assert unique_ids(hass, init_integration) == sorted([*before, f"{SHUTTER}_battery_level"])


async def test_state_first_reported_at_a_re_read(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A state that shows up only in the periodic re-read of the setup gets its entity."""
    before = unique_ids(hass, init_integration)
    setup = load_setup(FIXTURE)
    setup.devices[SHUTTER].states["core:SensorDefectState"] = "maintenanceRequired"
    mock_box_client.get_setup.side_effect = None
    mock_box_client.get_setup.return_value = setup
    await tick(hass, freezer, 5 * 60)
    assert mock_box_client.get_setup.await_count == 2
    assert state_of(hass, "binary_sensor", f"{SHUTTER}_problem") == STATE_ON
    # A product reporting its defects can report a low battery (``lowBattery``): it gets that
    # entity too, off for a defect that is not a low battery.
    assert state_of(hass, "binary_sensor", f"{SHUTTER}_battery") == STATE_OFF
    added = [f"{SHUTTER}_battery", f"{SHUTTER}_problem"]
    assert unique_ids(hass, init_integration) == sorted([*before, *added])
    # Later re-reads add nothing more.
    await tick(hass, freezer, 5 * 60)
    assert mock_box_client.get_setup.await_count == 3
    assert unique_ids(hass, init_integration) == sorted([*before, *added])


async def test_reload_keeps_one_entity_per_state(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Entities added at runtime are the same ones after a reload."""
    mock_box_client.fetch_events.return_value = changed(SHUTTER, BatteryLevelState=87)
    await tick(hass, freezer)
    mock_box_client.fetch_events.return_value = []
    before = unique_ids(hass, init_integration)
    setup = load_setup(FIXTURE)
    setup.devices[SHUTTER].states["core:BatteryLevelState"] = 87
    mock_box_client.get_setup.side_effect = None
    mock_box_client.get_setup.return_value = setup
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert unique_ids(hass, init_integration) == before
    assert state_of(hass, "sensor", f"{SHUTTER}_battery_level") == "87"


async def test_no_alert_and_no_portal_value_for_unreported_states(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Declared but unreported: no alert, nothing made up for the installer's snapshot."""
    runtime = init_integration.runtime_data
    assert runtime.alerts.count() == 0
    devices = runtime.coordinator.data.devices
    for url in (HALL_SMOKE, GARAGE_DOOR, KITCHEN_SMOKE, MOTION):
        payload = device_payload(devices[url])
        assert payload["battery"] is None
        assert payload["defect"] is None


async def test_device_triggers_of_declared_states(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The alerts a product declares it can report are offered as device triggers."""
    triggers = await async_get_triggers(hass, device_of(hass, KITCHEN_SMOKE).id)
    types = {trigger["type"] for trigger in triggers}
    assert {"fire", "battery_low", "sensor_defect", "sensor_defect_cleared"} <= types


async def test_diagnostics_list_declared_states(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Each device's declared states are in the download, reported or not."""
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    (kitchen,) = [d for d in diagnostics["devices"] if d["url"].endswith("/40000003")]
    assert kitchen["declared_states"] == [
        "core:SmokeState",
        "core:BatteryState",
        "core:SensorDefectState",
    ]
    assert "core:BatteryState" not in kitchen["states"]


@pytest.mark.parametrize("setup_fixture", ["setup.json"])
async def test_product_paired_again_gets_its_entities_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Unpaired, a product's entities go; paired again, they come back."""
    shutter = f"io://{PIN}/11803671"
    before = unique_ids(hass, init_integration)
    setup = load_setup()
    del setup.devices[shutter]
    mock_box_client.get_setup.side_effect = None
    mock_box_client.get_setup.return_value = setup
    mock_box_client.fetch_events.return_value = [Event(name="DeviceRemovedEvent")]
    await tick(hass, freezer)
    assert not [i for i in unique_ids(hass, init_integration) if i.startswith(shutter)]
    mock_box_client.get_setup.return_value = load_setup()
    mock_box_client.fetch_events.return_value = [Event(name="DeviceCreatedEvent")]
    await tick(hass, freezer)
    assert unique_ids(hass, init_integration) == before
