"""Every config-flow path, against the simulator."""

from __future__ import annotations

from ipaddress import ip_address
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_TOKEN, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN

from .common import PIN
from .conftest import TOKEN


def user_input(sim: BoxSimulator, token: str = TOKEN, host: str | None = None) -> dict[str, object]:
    """What a user types for the simulator."""
    return {
        CONF_HOST: host or f"{sim.host}:{sim.port}",
        CONF_TOKEN: token,
        CONF_VERIFY_SSL: False,
    }


def discovery(
    sim: BoxSimulator, pin: str | None = PIN, host: str = "127.0.0.1"
) -> ZeroconfServiceInfo:
    """The announcement of the simulated box."""
    properties = {"api_version": "1", "fw_version": "2025.3.2-5"}
    if pin:
        properties["gateway_pin"] = pin
    return ZeroconfServiceInfo(
        ip_address=ip_address(host),
        ip_addresses=[ip_address(host)],
        hostname=f"gateway-{pin}.local.",
        name=f"gateway-{pin}._kizboxdev._tcp.local.",
        port=sim.port,
        properties=properties,
        type="_kizboxdev._tcp.local.",
    )


async def test_user_flow(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"TaHoma Switch {PIN}"
    assert result["result"].unique_id == PIN
    assert result["data"] == {
        CONF_HOST: f"127.0.0.1:{simulator.port}",
        CONF_TOKEN: TOKEN,
        CONF_VERIFY_SSL: False,
    }
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_user_flow_default_port(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    """A host without port goes to the box's default port (here: where the simulator listens)."""
    with patch("custom_components.somfy_pro.box_api.DEFAULT_PORT", simulator.port):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator, host=simulator.host)
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    ("token", "offline", "error"),
    [
        ("wrong-token", False, {CONF_TOKEN: "invalid_auth"}),
        (TOKEN, True, {CONF_HOST: "cannot_connect"}),
    ],
)
async def test_user_flow_errors_and_recovery(
    hass: HomeAssistant,
    simulator: BoxSimulator,
    token: str,
    offline: bool,
    error: dict[str, str],
) -> None:
    if offline:
        await simulator.set_online(False)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator, token=token)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == error
    await simulator.set_online(True)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize("exception", [RuntimeError("boom"), None])
async def test_user_flow_unknown_error_and_recovery(
    hass: HomeAssistant, simulator: BoxSimulator, exception: Exception | None
) -> None:
    from custom_components.somfy_pro.box_api import BoxError

    side_effect = exception or BoxError("Internal error")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch(
        "custom_components.somfy_pro.config_flow.BoxClient.get_gateway", side_effect=side_effect
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator)
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_user_flow_duplicate(
    hass: HomeAssistant, simulator: BoxSimulator, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_zeroconf_flow(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(simulator)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"] == {
        "pin": PIN,
        "host": f"127.0.0.1:{simulator.port}",
    }
    # Wrong token first, then the right one.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "nope", CONF_VERIFY_SSL: False}
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == PIN
    assert result["data"][CONF_HOST] == f"127.0.0.1:{simulator.port}"
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_zeroconf_other_box_answers(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    """The announcement said one PIN, the box at that address has another."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(simulator, pin="9999-9999-9999")
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"


async def test_zeroconf_without_pin(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(simulator, pin=None)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_supported"


async def test_zeroconf_updates_host_of_configured_box(
    hass: HomeAssistant, simulator: BoxSimulator
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PIN,
        data={CONF_HOST: "192.0.2.10:8443", CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == f"127.0.0.1:{simulator.port}"


async def test_zeroconf_ignores_ipv6(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(simulator, host="fe80::1")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_supported"


async def test_reauth_flow(
    hass: HomeAssistant, simulator: BoxSimulator, init_integration: MockConfigEntry
) -> None:
    simulator.tokens.add("new-token")
    result = await init_integration.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "new-token"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert init_integration.data[CONF_TOKEN] == "new-token"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED


async def test_reconfigure_flow(
    hass: HomeAssistant, simulator: BoxSimulator, init_integration: MockConfigEntry
) -> None:
    simulator.tokens.add("other-token")
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator, host="127.0.0.1:1")
    )
    assert result["errors"] == {CONF_HOST: "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator, token="other-token")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data[CONF_TOKEN] == "other-token"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED


async def test_reconfigure_to_another_box(
    hass: HomeAssistant, simulator: BoxSimulator, init_integration: MockConfigEntry, tmp_path
) -> None:
    other = BoxSimulator("large", token=TOKEN, port=0, state_dir=tmp_path / "other")
    await other.start()
    try:
        result = await init_integration.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(other)
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_device"
    finally:
        await other.stop()


async def test_zeroconf_already_in_progress(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    first = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(simulator)
    )
    assert first["type"] is FlowResultType.FORM
    second = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(simulator)
    )
    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"


async def test_zeroconf_box_unreachable_then_back(
    hass: HomeAssistant, simulator: BoxSimulator
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(simulator)
    )
    await simulator.set_online(False)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False}
    )
    assert result["errors"] == {CONF_HOST: "cannot_connect"}
    await simulator.set_online(True)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: TOKEN, CONF_VERIFY_SSL: False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_reauth_reaches_another_box(
    hass: HomeAssistant, simulator: BoxSimulator, tmp_path
) -> None:
    """The address now leads to another box: reauth refuses to swap boxes."""
    other = BoxSimulator("large", token=TOKEN, port=0, state_dir=tmp_path / "other")
    await other.start()
    try:
        entry = MockConfigEntry(domain=DOMAIN, unique_id=PIN, data=user_input(other))
        entry.add_to_hass(hass)
        result = await entry.start_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_TOKEN: TOKEN}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_device"
    finally:
        await other.stop()


async def test_reconfigure_invalid_token_then_fixed(
    hass: HomeAssistant, simulator: BoxSimulator, init_integration: MockConfigEntry
) -> None:
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator, token="bad")
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()


async def test_zeroconf_keeps_a_host_name(hass: HomeAssistant, simulator: BoxSimulator) -> None:
    """A box configured by its .local name is not switched to the announced IP address."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=PIN,
        data={
            CONF_HOST: f"gateway-{PIN}.local:8443",
            CONF_TOKEN: TOKEN,
            CONF_VERIFY_SSL: True,
        },
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == f"gateway-{PIN}.local:8443"
