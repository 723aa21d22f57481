"""Setting the entry up and down on the mock box client."""

from __future__ import annotations

from unittest.mock import ANY, MagicMock

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.box_api import (
    BoxAuthenticationError,
    BoxConnectionError,
    BoxError,
    Gateway,
    Setup,
)
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.coordinator import token_issue_id

from .conftest import HOST, TOKEN, load_setup


async def test_setup_and_unload(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    box_client_class: MagicMock,
    mock_box_client: MagicMock,
) -> None:
    """The client is built from the entry; a listener is registered before the setup read."""
    box_client_class.assert_called_once_with(ANY, HOST, TOKEN, True)
    assert init_integration.runtime_data.client is mock_box_client
    assert [call[0] for call in mock_box_client.mock_calls[:3]] == [
        "unregister_listener",
        "register_listener",
        "get_setup",
    ]
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    # The box's listener is dropped with the entry.
    assert mock_box_client.unregister_listener.await_count == 2


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (BoxConnectionError("Connection refused"), ConfigEntryState.SETUP_RETRY),
        (BoxConnectionError("TimeoutError"), ConfigEntryState.SETUP_RETRY),
        (BoxError("500, message='Internal Server Error'"), ConfigEntryState.SETUP_RETRY),
        (BoxAuthenticationError("Not authenticated"), ConfigEntryState.SETUP_ERROR),
    ],
    ids=["cannot_connect", "timeout", "box_error", "invalid_auth"],
)
@pytest.mark.parametrize("call", ["register_listener", "get_setup"])
async def test_first_read_fails(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_box_client: MagicMock,
    issue_registry: ir.IssueRegistry,
    call: str,
    error: BoxError,
    state: ConfigEntryState,
) -> None:
    getattr(mock_box_client, call).side_effect = error
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is state
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    issue = issue_registry.async_get_issue(DOMAIN, token_issue_id(mock_config_entry.entry_id))
    if isinstance(error, BoxAuthenticationError):
        assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
        assert issue is not None
    else:
        assert flows == []
        assert issue is None


async def test_another_box_at_the_address(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_box_client: MagicMock
) -> None:
    """The box answering at the entry's address has another PIN: the entry does not load."""
    setup = load_setup()
    mock_box_client.get_setup.side_effect = None
    mock_box_client.get_setup.return_value = Setup(
        gateway=Gateway(id="9999-9999-9999", model="TaHoma Switch"), devices=setup.devices
    )
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert mock_config_entry.error_reason_translation_key == "wrong_box"
    assert mock_config_entry.reason is not None
    assert HOST in mock_config_entry.reason
