"""Config flow on the mock box client: every error of every step, and recovery from it."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any
from unittest.mock import ANY, AsyncMock, MagicMock

from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.const import CONF_HOST, CONF_TOKEN, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.box_api import (
    BoxAuthenticationError,
    BoxConnectionError,
    BoxError,
)
from custom_components.somfy_pro.const import DOMAIN

from .conftest import HOST, PIN, TOKEN

pytestmark = pytest.mark.usefixtures("mock_setup_entry")

NEW_TOKEN = "unit-token-9876543210"

ERRORS = pytest.mark.parametrize(
    ("side_effect", "errors"),
    [
        (BoxConnectionError("Connection refused"), {CONF_HOST: "cannot_connect"}),
        (BoxConnectionError("TimeoutError"), {CONF_HOST: "cannot_connect"}),
        (BoxAuthenticationError("Not authenticated"), {CONF_TOKEN: "invalid_auth"}),
        (BoxError("500, message='Internal Server Error'"), {"base": "unknown"}),
        (RuntimeError("boom"), {"base": "unknown"}),
    ],
    ids=["cannot_connect", "timeout", "invalid_auth", "box_error", "unexpected"],
)


def discovery(host: str = "192.168.1.20", pin: str | None = PIN) -> ZeroconfServiceInfo:
    """The box's zeroconf announcement."""
    properties = {"api_version": "1", "fw_version": "2025.3.2-5"}
    if pin:
        properties["gateway_pin"] = pin
    return ZeroconfServiceInfo(
        ip_address=ip_address(host),
        ip_addresses=[ip_address(host)],
        hostname=f"gateway-{pin}.local.",
        name=f"gateway-{pin}._kizboxdev._tcp.local.",
        port=8443,
        properties=properties,
        type="_kizboxdev._tcp.local.",
    )


@pytest.mark.usefixtures("mock_box_client")
async def test_user_flow(
    hass: HomeAssistant, box_client_class: MagicMock, mock_setup_entry: AsyncMock
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "https://192.168.1.20/", CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"TaHoma Switch {PIN}"
    assert result["result"].unique_id == PIN
    # The typed-in address is normalised to host:port before the box is asked.
    assert result["data"] == {
        CONF_HOST: "192.168.1.20:8443",
        CONF_TOKEN: TOKEN,
        CONF_VERIFY_SSL: False,
    }
    box_client_class.assert_called_once_with(ANY, "192.168.1.20:8443", TOKEN, False)
    assert len(mock_setup_entry.mock_calls) == 1


@ERRORS
async def test_user_flow_errors_and_recovery(
    hass: HomeAssistant,
    mock_box_client: MagicMock,
    mock_setup_entry: AsyncMock,
    side_effect: Exception,
    errors: dict[str, str],
) -> None:
    user_input = {CONF_HOST: HOST, CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: True}
    mock_box_client.get_gateway.side_effect = side_effect
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    mock_setup_entry.assert_not_called()
    mock_box_client.get_gateway.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == user_input
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.usefixtures("mock_box_client")
async def test_user_flow_box_already_configured(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "192.168.1.20", CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert mock_config_entry.data[CONF_HOST] == HOST


@ERRORS
async def test_zeroconf_errors_and_recovery(
    hass: HomeAssistant,
    mock_box_client: MagicMock,
    box_client_class: MagicMock,
    side_effect: Exception,
    errors: dict[str, str],
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery()
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"] == {"pin": PIN, "host": "192.168.1.20:8443"}
    mock_box_client.get_gateway.side_effect = side_effect
    user_input = {CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["errors"] == errors
    mock_box_client.get_gateway.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == PIN
    assert result["data"] == {
        CONF_HOST: "192.168.1.20:8443",
        CONF_TOKEN: TOKEN,
        CONF_VERIFY_SSL: False,
    }
    box_client_class.assert_called_with(ANY, "192.168.1.20:8443", TOKEN, False)


@ERRORS
async def test_reauth_errors_and_recovery(
    hass: HomeAssistant,
    mock_box_client: MagicMock,
    box_client_class: MagicMock,
    mock_config_entry: MockConfigEntry,
    side_effect: Exception,
    errors: dict[str, str],
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    mock_box_client.get_gateway.side_effect = side_effect
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: NEW_TOKEN}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == errors
    assert mock_config_entry.data[CONF_TOKEN] == TOKEN
    mock_box_client.get_gateway.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: NEW_TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    # The entry reloads with the new token: done before the test ends, or its saves linger.
    await hass.async_block_till_done(wait_background_tasks=True)
    # The new token is tried at the entry's address, with the entry's certificate setting.
    box_client_class.assert_called_with(ANY, HOST, NEW_TOKEN, True)
    assert mock_config_entry.data == {CONF_HOST: HOST, CONF_TOKEN: NEW_TOKEN, CONF_VERIFY_SSL: True}


@ERRORS
async def test_reconfigure_errors_and_recovery(
    hass: HomeAssistant,
    mock_box_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    side_effect: Exception,
    errors: dict[str, str],
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    user_input: dict[str, Any] = {
        CONF_HOST: "192.168.1.21",
        CONF_TOKEN: NEW_TOKEN,
        CONF_VERIFY_SSL: False,
    }
    mock_box_client.get_gateway.side_effect = side_effect
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == errors
    assert mock_config_entry.data[CONF_HOST] == HOST
    mock_box_client.get_gateway.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)  # the reload, as above
    assert mock_config_entry.data == {
        CONF_HOST: "192.168.1.21:8443",
        CONF_TOKEN: NEW_TOKEN,
        CONF_VERIFY_SSL: False,
    }
