"""The alert event entity on the mock box client."""

from __future__ import annotations

from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.somfy_pro.box_api import Event, Setup

from ..common import device_of, entity_id, tick
from .conftest import PIN, load_setup

pytestmark = [
    pytest.mark.parametrize("init_integration", [Platform.EVENT], indirect=True),
    pytest.mark.freeze_time("2026-11-23T10:00:00+00:00"),
]

SMOKE = f"io://{PIN}/10811422"
FRONT_DOOR = f"io://{PIN}/10338254"


@pytest.fixture
def mock_box_client(mock_box_client: MagicMock) -> MagicMock:
    """The fixtures' box with the front door's battery fine: no alert when the entry starts.

    An alert's event data carries the registry device id, which differs on every run.
    """

    def quiet_setup() -> Setup:
        setup = load_setup()
        setup.devices[FRONT_DOOR].states["core:BatteryState"] = "normal"
        return setup

    mock_box_client.get_setup.side_effect = quiet_setup
    return mock_box_client


async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
    entity_registry: er.EntityRegistry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)
    state = hass.states.get(entity_id(hass, "event", f"{PIN}_alerts"))
    assert state is not None
    assert state.state == STATE_UNKNOWN


async def test_alert_from_an_event(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A smoke state arriving in the listener's events fires the entity and the bus event."""
    bus_events = async_capture_events(hass, "somfy_pro_alert")
    mock_box_client.fetch_events.return_value = [
        Event(
            name="DeviceStateChangedEvent",
            device_url=SMOKE,
            states={"core:SmokeState": "detected"},
        )
    ]
    await tick(hass, freezer)
    state = hass.states.get(entity_id(hass, "event", f"{PIN}_alerts"))
    assert state is not None
    assert state.attributes["event_type"] == "fire"
    assert state.attributes["device_url"] == SMOKE
    assert state.attributes["device_name"] == "Hall smoke detector"
    assert state.attributes["device_id"] == device_of(hass, SMOKE).id
    assert [(e.data["alert"], e.data["active"]) for e in bus_events] == [("fire", True)]
    # The same state again is no new alert; its end is one.
    await tick(hass, freezer)
    assert len(bus_events) == 1
    mock_box_client.fetch_events.return_value = [
        Event(
            name="DeviceStateChangedEvent",
            device_url=SMOKE,
            states={"core:SmokeState": "notDetected"},
        )
    ]
    await tick(hass, freezer)
    state = hass.states.get(entity_id(hass, "event", f"{PIN}_alerts"))
    assert state is not None
    assert state.attributes["event_type"] == "fire_cleared"
    assert [(e.data["alert"], e.data["active"]) for e in bus_events] == [
        ("fire", True),
        ("fire", False),
    ]
