"""Radio levels in dBm and as decimals, RTDS/RTD alarm sensors, the box's alarm, NO_AUTO.

``setup_radio_alarm.json`` is shaped like a real box with an RTDS alarm: sensors reporting
``core:RSSILevelState`` in dBm (-44 to -61.5, "good"), no ``core:StatusState``, a motion
detector whose ``core:SensorDefectState`` is ``lowBattery``, the box's alarm
(``internal:IntrusionDetectedState``), a keypad with ``rtds:ControllerBatteryState``, an io
awning at ``45.908`` %, and a gateway in mode ``NO_AUTO``.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.alerts import (
    ALERT_BATTERY_LOW,
    ALERT_DEVICE_OFFLINE,
    ALERT_INTRUSION,
    ALERT_SENSOR_DEFECT,
    alert_capabilities,
)
from custom_components.somfy_pro.box_api import Event
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.portal_monitoring import box_payload, device_payload
from custom_components.somfy_pro.state_values import gateway_activated, radio_level

from ..common import state_of, tick
from .conftest import PIN
from .value_tables import BOUNDS, REFUSED

MOTION = f"rtds://{PIN}/40001"
DOOR = f"rtds://{PIN}/40002"
SMOKE = f"rtd://{PIN}/40003"
AWNING = f"io://{PIN}/40004"
ALARM = f"internal://{PIN}/alarm/0"
KEYPAD = f"rtds://{PIN}/40005"

ALARM_BOX = pytest.mark.parametrize("setup_fixture", ["setup_radio_alarm.json"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *BOUNDS,
        (80, 80),
        (45.908, 46),
        (45.5, 46),
        (44.49, 44),
        ("80", 80),
        # dBm: -50 and stronger is 100, -100 and weaker is 0, 2 points a dB in between.
        (-44, 100),
        (-50, 100),
        (-55, 90),
        (-61, 78),
        (-61.5, 77),
        (-75.2, 50),
        (-100, 0),
        (-130, 0),
        ("-55", 90),
        (" 72 ", 72),
        ("1_0", None),
        ("80%", None),
        (100.5, None),
        (101, None),
        (float("-inf"), None),
        ("good", None),
        ([80], None),
        *REFUSED,
    ],
)
def test_radio_level(value: Any, expected: int | None) -> None:
    """Percentages are rounded, dBm mapped to 0-100, anything else is None: never negative."""
    assert radio_level(value) == expected


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("ACTIVE", True), ("NO_AUTO", True), ("no_auto", True), ("INACTIVE", False), (None, None)],
)
def test_gateway_activated(mode: str | None, expected: bool | None) -> None:
    """A box whose automatic scenarios are off (NO_AUTO) is still activated."""
    assert gateway_activated(mode) is expected


@ALARM_BOX
async def test_radio_levels_in_dbm_and_decimals(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """No negative percentage: the entity and the installer's snapshot say the same level."""
    devices = init_integration.runtime_data.coordinator.data.devices
    for url, level in ((MOTION, "90"), (DOOR, "100"), (SMOKE, "77"), (AWNING, "46")):
        assert state_of(hass, "sensor", f"{url}_radio_level") == level
        assert device_payload(devices[url])["rssi"] == int(level)


@ALARM_BOX
async def test_no_auto_box_is_activated(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Gateway mode NO_AUTO shows the box activated, here and in the snapshot's box."""
    assert state_of(hass, "binary_sensor", f"{PIN}_activated") == STATE_ON
    gateway = init_integration.runtime_data.coordinator.data.gateway
    assert box_payload(gateway, online=True)["activated"] is True


@ALARM_BOX
async def test_alarm_sensors_without_status_go_offline(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """RTDS/RTD sensors have an online entity; DeviceUnavailableEvent raises device_offline."""
    alerts = init_integration.runtime_data.alerts
    for url in (MOTION, DOOR, SMOKE, KEYPAD):
        assert state_of(hass, "binary_sensor", f"{url}_online") == STATE_ON
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("binary_sensor", DOMAIN, f"{ALARM}_online") is None
    mock_box_client.fetch_events.return_value = [
        Event(name="DeviceUnavailableEvent", device_url=DOOR)
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{DOOR}_online") == STATE_OFF
    assert state_of(hass, "sensor", f"{DOOR}_radio_level") == STATE_UNAVAILABLE
    assert (DOOR, ALERT_DEVICE_OFFLINE) in alerts.active
    mock_box_client.fetch_events.return_value = [
        Event(name="DeviceAvailableEvent", device_url=DOOR)
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{DOOR}_online") == STATE_ON
    assert (DOOR, ALERT_DEVICE_OFFLINE) not in alerts.active


@ALARM_BOX
async def test_low_battery_defect_is_a_low_battery(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """``lowBattery`` turns the battery entity on and raises battery_low, not a problem."""
    alerts = init_integration.runtime_data.alerts
    assert state_of(hass, "binary_sensor", f"{MOTION}_battery") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{MOTION}_problem") == STATE_OFF
    assert (MOTION, ALERT_BATTERY_LOW) in alerts.active
    assert (MOTION, ALERT_SENSOR_DEFECT) not in alerts.active
    assert state_of(hass, "binary_sensor", f"{SMOKE}_battery") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{SMOKE}_problem") == STATE_OFF


@ALARM_BOX
async def test_defect_is_a_problem(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """``maintenanceRequired`` is a problem and a sensor_defect alert; the battery is fine."""
    alerts = init_integration.runtime_data.alerts
    mock_box_client.fetch_events.return_value = [
        Event(
            name="DeviceStateChangedEvent",
            device_url=MOTION,
            states={"core:SensorDefectState": "maintenanceRequired"},
        )
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{MOTION}_problem") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{MOTION}_battery") == STATE_OFF
    assert (MOTION, ALERT_SENSOR_DEFECT) in alerts.active
    assert (MOTION, ALERT_BATTERY_LOW) not in alerts.active


@ALARM_BOX
async def test_box_alarm_intrusion_and_controller_battery(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The alarm's intrusion and the keypad's battery raise their alerts and show."""
    alerts = init_integration.runtime_data.alerts
    devices = init_integration.runtime_data.coordinator.data.devices
    assert ALERT_INTRUSION in alert_capabilities(devices[ALARM])
    assert ALERT_BATTERY_LOW in alert_capabilities(devices[KEYPAD])
    assert state_of(hass, "binary_sensor", f"{ALARM}_intrusion") == STATE_OFF
    assert state_of(hass, "binary_sensor", f"{KEYPAD}_battery") == STATE_OFF
    mock_box_client.fetch_events.return_value = [
        Event(
            name="DeviceStateChangedEvent",
            device_url=ALARM,
            states={"internal:IntrusionDetectedState": "detected"},
        ),
        Event(
            name="DeviceStateChangedEvent",
            device_url=KEYPAD,
            states={"rtds:ControllerBatteryState": "low"},
        ),
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{ALARM}_intrusion") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{KEYPAD}_battery") == STATE_ON
    assert (ALARM, ALERT_INTRUSION) in alerts.active
    assert (KEYPAD, ALERT_BATTERY_LOW) in alerts.active
    mock_box_client.fetch_events.return_value = [
        Event(
            name="DeviceStateChangedEvent",
            device_url=ALARM,
            states={"internal:IntrusionDetectedState": "notDetected"},
        )
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{ALARM}_intrusion") == STATE_OFF
    assert (ALARM, ALERT_INTRUSION) not in alerts.active
