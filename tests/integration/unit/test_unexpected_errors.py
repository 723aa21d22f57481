"""An unexpected error of the box client: shown, logged with its traceback once, retried."""

from __future__ import annotations

import logging
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.coordinator import (
    UNEXPECTED_FAILURES_FOR_ISSUE,
    unexpected_issue_id,
)

from ..common import state_of, tick
from .conftest import PIN, load_setup

ERROR = "TypeError: Device.__init__() missing 1 required keyword-only argument: 'type'"


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records logged with a traceback, above debug level."""
    return [r for r in caplog.records if r.exc_info and r.levelno > logging.DEBUG]


def issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    """The entry's unexpected-error repair issue."""
    return ir.async_get(hass).async_get_issue(DOMAIN, unexpected_issue_id(entry.entry_id))


async def test_box_never_loading_says_why(
    hass: HomeAssistant,
    mock_box_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An entry that cannot load: retrying, a repair issue with the error, one traceback."""
    mock_box_client.get_setup.side_effect = TypeError(ERROR.removeprefix("TypeError: "))
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    found = issue(hass, mock_config_entry)
    assert found is not None
    assert found.translation_key == "unexpected_error"
    assert found.severity is ir.IssueSeverity.ERROR
    assert found.translation_placeholders == {"title": mock_config_entry.title, "error": ERROR}
    assert len(tracebacks(caplog)) == 1
    # Home Assistant retries the setup: the issue already says it, no second traceback.
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert len(tracebacks(caplog)) == 1
    assert "Unexpected error fetching" not in caplog.text
    # The box reads again: loaded, issue gone.
    mock_box_client.get_setup.side_effect = lambda: load_setup()
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert issue(hass, mock_config_entry) is None


async def test_loaded_entry_unexpected_failures(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A loaded box failing unexpectedly: offline at once, a repair issue if it lasts."""
    mock_box_client.fetch_events.side_effect = ValueError("Expecting value: line 1 column 1")
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{PIN}_online") == STATE_OFF
    assert "Expecting value: line 1 column 1" in caplog.text
    assert issue(hass, init_integration) is None
    mock_box_client.get_setup.side_effect = ValueError("Expecting value: line 1 column 1")
    for _ in range(UNEXPECTED_FAILURES_FOR_ISSUE - 1):
        await tick(hass, freezer)
    found = issue(hass, init_integration)
    assert found is not None
    assert found.translation_placeholders == {
        "title": init_integration.title,
        "error": "ValueError: Expecting value: line 1 column 1",
    }
    assert len(tracebacks(caplog)) == 1
    assert "Unexpected error fetching" not in caplog.text
    assert init_integration.state is ConfigEntryState.LOADED
    mock_box_client.fetch_events.side_effect = None
    mock_box_client.get_setup.side_effect = lambda: load_setup()
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{PIN}_online") == STATE_ON
    assert issue(hass, init_integration) is None


async def test_unexpected_error_message_translated(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The coordinator's failure reads as the translated message with the error text."""
    mock_box_client.fetch_events.side_effect = KeyError("deviceURL")
    await tick(hass, freezer)
    assert (
        "The Somfy box sent something the integration cannot read: KeyError: 'deviceURL'"
        in caplog.text
    )
