"""State values as real boxes report them: battery levels as text, the status as a boolean.

``setup_real_values.json`` is shaped like real boxes: a smoke detector reporting its battery
as ``"100%"``, a zigbee sensor with ``"85 %"`` and ``core:StatusState`` ``true``, a contact
sensor with a battery of ``45.5`` that the box lists as available while its status state is
``false``, and a battery level the box fills with a word.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.alerts import ALERT_DEVICE_OFFLINE
from custom_components.somfy_pro.box_api import Event
from custom_components.somfy_pro.portal_monitoring import device_payload
from custom_components.somfy_pro.state_values import battery_level, status_online

from ..common import state_of, tick
from .conftest import PIN
from .value_tables import BOUNDS, REFUSED

SMOKE = f"io://{PIN}/30000001"
MOTION = f"zigbee://{PIN}/30000002"
WINDOW = f"io://{PIN}/30000003"
LOFT = f"io://{PIN}/30000004"

# The integration tests set up the real-shaped box; the helpers' tests need no box.
REAL_BOX = pytest.mark.parametrize("setup_fixture", ["setup_real_values.json"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *BOUNDS,
        (87, 87),
        (45.5, 45),
        (99.9, 99),
        ("100%", 100),
        ("85 %", 85),
        (" 7% ", 7),
        ("42", 42),
        ("45.5%", 45),
        ("45,5 %", 45),
        ("0%", 0),
        ("full", None),
        ("n/a", None),
        ("%", None),
        ("-5%", None),
        ("101%", None),
        ("100%%", None),
        (-1, None),
        (150, None),
        ([100], None),
        ({"level": 100}, None),
        *REFUSED,
    ],
)
def test_battery_level(value: Any, expected: int | None) -> None:
    """Numbers and percentages in text are read; anything else, or out of 0-100, is None."""
    assert battery_level(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("available", True),
        ("unavailable", False),
        ("Unavailable ", False),
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("", None),
        ("unknown", None),
        (0, None),
        (1, None),
        (None, None),
        ({"status": "available"}, None),
    ],
)
def test_status_online(value: Any, expected: bool | None) -> None:
    """Both spellings of the status say online or offline; anything else says nothing."""
    assert status_online(value) is expected


@REAL_BOX
async def test_battery_levels_as_text(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """``"100%"``, ``"85 %"`` and ``45.5`` are percentages; a word stays unknown."""
    assert state_of(hass, "sensor", f"{SMOKE}_battery_level") == "100"
    assert state_of(hass, "sensor", f"{MOTION}_battery_level") == "85"
    assert state_of(hass, "sensor", f"{LOFT}_battery_level") == STATE_UNKNOWN
    devices = init_integration.runtime_data.coordinator.data.devices
    # The installer's snapshot says the same.
    assert device_payload(devices[SMOKE])["battery"] == 100
    assert device_payload(devices[MOTION])["battery"] == 85
    assert device_payload(devices[WINDOW])["battery"] == 45
    assert device_payload(devices[LOFT])["battery"] is None


@REAL_BOX
async def test_status_as_boolean_at_setup(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """``core:StatusState`` ``false`` is offline everywhere, ``true`` online."""
    assert state_of(hass, "binary_sensor", f"{WINDOW}_online") == STATE_OFF
    assert state_of(hass, "sensor", f"{WINDOW}_battery_level") == STATE_UNAVAILABLE
    assert state_of(hass, "binary_sensor", f"{MOTION}_online") == STATE_ON
    assert state_of(hass, "binary_sensor", f"{SMOKE}_online") == STATE_ON
    runtime = init_integration.runtime_data
    assert (WINDOW, ALERT_DEVICE_OFFLINE) in runtime.alerts.active
    assert (MOTION, ALERT_DEVICE_OFFLINE) not in runtime.alerts.active
    devices = runtime.coordinator.data.devices
    assert device_payload(devices[WINDOW])["online"] is False
    assert device_payload(devices[MOTION])["online"] is True


@REAL_BOX
async def test_status_as_boolean_in_events(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A status event with a boolean takes the device offline and back online."""
    alerts = init_integration.runtime_data.alerts
    mock_box_client.fetch_events.return_value = [
        Event(
            name="DeviceStateChangedEvent",
            device_url=MOTION,
            states={"core:StatusState": False, "core:BatteryLevelState": "84 %"},
        ),
        Event(name="DeviceStateChangedEvent", device_url=WINDOW, states={"core:StatusState": True}),
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{MOTION}_online") == STATE_OFF
    assert state_of(hass, "sensor", f"{MOTION}_battery_level") == STATE_UNAVAILABLE
    assert (MOTION, ALERT_DEVICE_OFFLINE) in alerts.active
    assert state_of(hass, "binary_sensor", f"{WINDOW}_online") == STATE_ON
    assert state_of(hass, "sensor", f"{WINDOW}_battery_level") == "45"
    assert (WINDOW, ALERT_DEVICE_OFFLINE) not in alerts.active
    mock_box_client.fetch_events.return_value = [
        Event(name="DeviceStateChangedEvent", device_url=MOTION, states={"core:StatusState": True})
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{MOTION}_online") == STATE_ON
    assert state_of(hass, "sensor", f"{MOTION}_battery_level") == "84"
    assert (MOTION, ALERT_DEVICE_OFFLINE) not in alerts.active
    # A status the integration cannot read leaves the device as it was.
    mock_box_client.fetch_events.return_value = [
        Event(name="DeviceStateChangedEvent", device_url=MOTION, states={"core:StatusState": 0})
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{MOTION}_online") == STATE_ON
