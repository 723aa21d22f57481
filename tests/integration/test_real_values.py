"""Values of a real-shaped box, served verbatim by the simulator (``tests/dumps/values_*``).

``values_rtds_alarm.json`` is a ``GET setup`` answer shaped like a real TaHoma in gateway
mode ``NO_AUTO`` with an RTDS alarm: sensors reporting their radio level in dBm (-61, -44,
-52, "good") and no ``core:StatusState``, a motion detector whose defect state says
``lowBattery``, the alarm controller with ``internal:IntrusionDetectedState`` and
``rtds:ControllerBatteryState``, and an io awning at ``45.908`` %.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN, EVENT_ALERT
from custom_components.somfy_pro.portal_monitoring import box_payload, device_payload

from .common import state_of, tick
from .conftest import TOKEN, entry_data

DUMP = Path(__file__).parents[1] / "dumps" / "values_rtds_alarm.json"
PIN = "0000-0004-4181"
MOTION = f"rtds://{PIN}/51201"
DOOR = f"rtds://{PIN}/51202"
SMOKE = f"rtd://{PIN}/51203"
ALARM = f"rtds://{PIN}/51200"
AWNING = f"io://{PIN}/7340512"


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[BoxSimulator]:
    """The dump, served as the box sends it."""
    sim = BoxSimulator(str(DUMP), token=TOKEN, port=0, state_dir=tmp_path, move_seconds=0.05)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def mock_config_entry(simulator: BoxSimulator) -> MockConfigEntry:
    """The entry of the dump's box."""
    return MockConfigEntry(
        domain=DOMAIN, title=f"TaHoma Switch {PIN}", unique_id=PIN, data=entry_data(simulator)
    )


def alerts_of(events: list[Event[Any]]) -> list[tuple[str | None, str]]:
    """(device URL, event type) of captured ``somfy_pro_alert`` events."""
    return [(e.data["device_url"], e.data["type"]) for e in events]


async def test_radio_levels_and_activation(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """dBm shows as 0-100 %, decimals rounded, the same in the snapshot; NO_AUTO is activated."""
    coordinator = init_integration.runtime_data.coordinator
    devices = coordinator.data.devices
    for url, level in ((MOTION, 78), (DOOR, 100), (SMOKE, 96), (AWNING, 46)):
        assert state_of(hass, "sensor", f"{url}_radio_level") == str(level)
        assert device_payload(devices[url])["rssi"] == level
    assert state_of(hass, "binary_sensor", f"{PIN}_activated") == STATE_ON
    assert box_payload(coordinator.data.gateway, online=True)["activated"] is True


async def test_sensor_without_status_goes_offline(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """DeviceUnavailableEvent takes an RTDS sensor offline and raises device_offline."""
    events = async_capture_events(hass, EVENT_ALERT)
    for url in (MOTION, DOOR, SMOKE, ALARM, AWNING):
        assert state_of(hass, "binary_sensor", f"{url}_online") == STATE_ON
    simulator.box.set_device_online(DOOR, False)
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{DOOR}_online") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{DOOR}_contact") == STATE_UNAVAILABLE
    simulator.box.set_device_online(DOOR, True)
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{DOOR}_online") == STATE_ON
    assert alerts_of(events) == [(DOOR, "device_offline"), (DOOR, "device_offline_cleared")]


async def test_low_battery_defect_is_a_battery_alert(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """``lowBattery``: the battery entity is on and battery_low raised; no problem."""
    alerts = init_integration.runtime_data.alerts
    assert state_of(hass, "binary_sensor", f"{MOTION}_battery") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{MOTION}_problem") == STATE_OFF
    assert set(alerts.active) == {(MOTION, "battery_low")}


async def test_alarm_intrusion_and_controller_battery(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The alarm's intrusion and its controller's battery raise their alerts, and show."""
    events = async_capture_events(hass, EVENT_ALERT)
    assert state_of(hass, "binary_sensor", f"{ALARM}_intrusion") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{ALARM}_battery") == STATE_OFF
    simulator.box.set_states(
        ALARM,
        {"internal:IntrusionDetectedState": "detected", "rtds:ControllerBatteryState": "low"},
    )
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{ALARM}_intrusion") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{ALARM}_battery") == STATE_ON
    simulator.box.set_states(ALARM, {"internal:IntrusionDetectedState": "notDetected"})
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{ALARM}_intrusion") == STATE_OFF
    assert alerts_of(events) == [
        (ALARM, "battery_low"),
        (ALARM, "intrusion"),
        (ALARM, "intrusion_cleared"),
    ]


async def test_radio_level_set_by_hand(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A level changed to dBm or a decimal (``ctl set-state``) follows, never negative."""
    simulator.box.set_states(DOOR, {"core:RSSILevelState": -75.2})
    simulator.box.set_states(AWNING, {"core:RSSILevelState": 12.5})
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{DOOR}_radio_level") == "50"
    assert state_of(hass, "sensor", f"{AWNING}_radio_level") == "13"
