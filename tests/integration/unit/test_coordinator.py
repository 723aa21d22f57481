"""The coordinator on the mock box client: failures of one call, recovery, events, listener."""

from __future__ import annotations

import logging
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_TOKEN, STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.box_api import (
    BoxAuthenticationError,
    BoxConnectionError,
    BoxError,
    BoxListenerLostError,
    Event,
)
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.coordinator import token_issue_id

from ..common import state_of, tick
from .conftest import LISTENER, PIN, load_setup

SHUTTER = f"io://{PIN}/11803671"
FRONT_DOOR = f"io://{PIN}/10338254"
RADIO = f"{SHUTTER}_radio_level"
NEW_LISTENER = "listener-0002"


def radio_level(hass: HomeAssistant) -> str | None:
    """The shutter's radio level sensor."""
    return state_of(hass, "sensor", RADIO)


def box_online(hass: HomeAssistant) -> str | None:
    """The box's online binary sensor."""
    return state_of(hass, "binary_sensor", f"{PIN}_online")


def errors_logged(caplog: pytest.LogCaptureFixture, message: str) -> int:
    """How many records at ERROR or above say ``message``."""
    return sum(
        1
        for record in caplog.records
        if record.levelno >= logging.ERROR and message in record.getMessage()
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            BoxConnectionError("503, message='Service Unavailable'"),
            "Cannot reach the Somfy box: 503, message='Service Unavailable'",
        ),
        (BoxConnectionError("TimeoutError"), "Cannot reach the Somfy box: TimeoutError"),
        (
            BoxError("500, message='Internal Server Error'"),
            "The Somfy box answered with an error: 500, message='Internal Server Error'",
        ),
    ],
    ids=["service_unavailable", "timeout", "server_error"],
)
@pytest.mark.parametrize("call", ["fetch_events", "get_setup"])
async def test_one_failed_call_then_recovery(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    call: str,
    error: BoxError,
    message: str,
) -> None:
    """One call fails: entities unavailable, the translated error logged once, then back."""
    assert radio_level(hass) == "82"
    failing = getattr(mock_box_client, call)
    original = failing.side_effect
    failing.side_effect = error
    mock_box_client.register_listener.reset_mock()
    # Past the periodic setup read, so that ``get_setup`` is the call that fails.
    await tick(hass, freezer, 301 if call == "get_setup" else 1)
    assert radio_level(hass) == STATE_UNAVAILABLE
    # The box-online sensor stays available to say the box is offline.
    assert box_online(hass) == STATE_OFF
    assert errors_logged(caplog, message) == 1
    assert init_integration.state is ConfigEntryState.LOADED
    # The box answers again: it is pinged first, then a new listener and the whole setup.
    failing.side_effect = original
    mock_box_client.ping.reset_mock()
    mock_box_client.get_setup.reset_mock()
    await tick(hass, freezer)
    mock_box_client.ping.assert_awaited_once()
    mock_box_client.register_listener.assert_awaited_once()
    mock_box_client.get_setup.assert_awaited_once()
    assert radio_level(hass) == "82"
    assert box_online(hass) == STATE_ON
    # Logged once, when the box went away, not again on the way back.
    assert errors_logged(caplog, message) == 1


async def test_box_staying_off_costs_one_ping(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    mock_box_client.fetch_events.side_effect = BoxConnectionError("Connection refused")
    await tick(hass, freezer)
    assert radio_level(hass) == STATE_UNAVAILABLE
    mock_box_client.fetch_events.reset_mock()
    mock_box_client.get_setup.reset_mock()
    mock_box_client.ping.side_effect = BoxConnectionError("Connection refused")
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert mock_box_client.ping.await_count == 2
    mock_box_client.fetch_events.assert_not_awaited()
    mock_box_client.get_setup.assert_not_awaited()
    assert radio_level(hass) == STATE_UNAVAILABLE
    mock_box_client.ping.side_effect = None
    mock_box_client.fetch_events.side_effect = None
    await tick(hass, freezer)
    assert radio_level(hass) == "82"


async def test_token_rejected_while_running_starts_reauth(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The token is revoked: reauth and a repair issue; a new token brings the box back."""
    mock_box_client.fetch_events.side_effect = BoxAuthenticationError("Not authenticated")
    await tick(hass, freezer)
    assert radio_level(hass) == STATE_UNAVAILABLE
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    issue = issue_registry.async_get_issue(DOMAIN, token_issue_id(init_integration.entry_id))
    assert issue is not None
    assert issue.translation_key == "token_rejected"
    # The user enters a new token; the entry reloads with it.
    mock_box_client.fetch_events.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_TOKEN: "new-token"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert init_integration.data[CONF_TOKEN] == "new-token"
    assert init_integration.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, token_issue_id(init_integration.entry_id)) is None
    assert radio_level(hass) == "82"


async def test_listener_lost_reads_the_setup_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The box forgot the listener (reboot): a new one, the setup read again, no failure."""
    mock_box_client.fetch_events.side_effect = BoxListenerLostError("Invalid event listener id")
    mock_box_client.register_listener.reset_mock()
    mock_box_client.unregister_listener.reset_mock()
    mock_box_client.get_setup.reset_mock()
    await tick(hass, freezer)
    mock_box_client.unregister_listener.assert_awaited_once()
    mock_box_client.register_listener.assert_awaited_once()
    mock_box_client.get_setup.assert_awaited_once()
    assert radio_level(hass) == "82"
    assert box_online(hass) == STATE_ON


async def test_listener_registered_again_by_the_library(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Events may be lost when pyoverkiz registers a new listener itself: read everything."""

    def new_listener() -> list[Event]:
        mock_box_client.listener_id = NEW_LISTENER
        return [Event(name="DeviceStateChangedEvent", device_url=SHUTTER, states={})]

    mock_box_client.fetch_events.side_effect = new_listener
    mock_box_client.get_setup.reset_mock()
    await tick(hass, freezer)
    mock_box_client.get_setup.assert_awaited_once()
    mock_box_client.fetch_events.side_effect = None
    await tick(hass, freezer)
    # Same listener as before the last fetch: events only.
    mock_box_client.get_setup.assert_awaited_once()
    assert mock_box_client.listener_id == NEW_LISTENER != LISTENER


async def test_events_update_states_and_availability(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    online = f"{SHUTTER}_online"
    mock_box_client.fetch_events.return_value = [
        Event(
            name="DeviceStateChangedEvent",
            device_url=SHUTTER,
            states={"core:RSSILevelState": 41.0},
        ),
        # Events of products the integration does not know are ignored.
        Event(
            name="DeviceStateChangedEvent",
            device_url=f"io://{PIN}/99999999",
            states={"core:RSSILevelState": 1.0},
        ),
        Event(name="ExecutionStateChangedEvent"),
    ]
    await tick(hass, freezer)
    assert radio_level(hass) == "41"
    mock_box_client.fetch_events.return_value = [
        Event(name="DeviceUnavailableEvent", device_url=SHUTTER)
    ]
    await tick(hass, freezer)
    assert radio_level(hass) == STATE_UNAVAILABLE
    assert state_of(hass, "binary_sensor", online) == STATE_OFF
    mock_box_client.fetch_events.return_value = [
        Event(name="DeviceAvailableEvent", device_url=SHUTTER)
    ]
    await tick(hass, freezer)
    assert radio_level(hass) == "41"
    assert state_of(hass, "binary_sensor", online) == STATE_ON
    # The status state says unavailable: offline as well.
    mock_box_client.fetch_events.return_value = [
        Event(
            name="DeviceStateChangedEvent",
            device_url=SHUTTER,
            states={"core:StatusState": "unavailable"},
        )
    ]
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", online) == STATE_OFF
    mock_box_client.get_setup.assert_awaited_once()


async def test_state_missing_after_a_setup_read(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A product stops reporting a state: its entity stays, with an unknown value."""
    setup = load_setup()
    del setup.devices[SHUTTER].states["core:RSSILevelState"]
    del setup.devices[FRONT_DOOR].states["core:BatteryState"]
    mock_box_client.get_setup.side_effect = None
    mock_box_client.get_setup.return_value = setup
    mock_box_client.fetch_events.return_value = [
        Event(name="DeviceUpdatedEvent", device_url=SHUTTER)
    ]
    await tick(hass, freezer)
    mock_box_client.get_setup.assert_awaited()
    assert radio_level(hass) == STATE_UNKNOWN
    assert state_of(hass, "binary_sensor", f"{FRONT_DOOR}_battery") == STATE_UNKNOWN
    # Still counted as paired, still online.
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "5"
    assert state_of(hass, "binary_sensor", f"{SHUTTER}_online") == STATE_ON


async def test_unknown_product_paired_at_runtime(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A product of a class the integration does not know gets what its states allow."""
    setup = load_setup()
    gadget = load_setup("setup_edge_cases.json").devices[f"io://{PIN}/20000001"]
    setup.devices[gadget.url] = gadget
    mock_box_client.get_setup.side_effect = None
    mock_box_client.get_setup.return_value = setup
    mock_box_client.fetch_events.return_value = [
        Event(name="DeviceCreatedEvent", device_url=gadget.url)
    ]
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{gadget.url}_radio_level") == "40"
    assert state_of(hass, "binary_sensor", f"{gadget.url}_online") == STATE_ON
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "6"
