"""The portal channel against a scripted peer: the link flow, unlinking, options."""

from __future__ import annotations

import json

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.diagnostics import async_get_config_entry_diagnostics
from custom_components.somfy_pro.portal_client import CONF_PORTAL

from .common import PIN, state_of, tick
from .portal_channel_common import choose_in_options, linked, peer
from .portal_common import manager_of, wait_until
from .portal_peer import FakePortal, frame

__all__ = ["linked", "peer"]


# -- linking ------------------------------------------------------------------------------


async def test_link_flow(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    peer: FakePortal,
) -> None:
    entry = init_integration
    assert state_of(hass, "sensor", f"{PIN}_installer") == "unknown"
    assert state_of(hass, "binary_sensor", f"{PIN}_portal_connection") == "off"
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] == "form"
    assert result["step_id"] == "link"

    # Not a URL: said under the address.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": "portal.example", "code": "ABCD-EFGH"}
    )
    assert result["errors"] == {"url": "invalid_url"}
    # Wrong code: under the code; rate-limited: under the code too.
    peer.link_status = 400
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": peer.url, "code": "WRONG"}
    )
    assert result["errors"] == {"code": "invalid_code"}
    peer.link_status = 429
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": peer.url, "code": "WRONG"}
    )
    assert result["errors"] == {"code": "rate_limited"}
    # Server error, or nobody listening: the address.
    peer.link_status = 500
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": peer.url, "code": "ABCD"}
    )
    assert result["errors"] == {"url": "cannot_connect"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": "http://127.0.0.1:9", "code": "ABCD"}
    )
    assert result["errors"] == {"url": "cannot_connect"}

    # Recovery: the right code.
    peer.link_status = 200
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"url": peer.url + "/", "code": " ABCD-EFGH "}
    )
    assert result["type"] == "create_entry"
    sent = peer.link_requests[-1]
    assert sent["code"] == "ABCD-EFGH"
    assert sent["pin"] == PIN
    assert sent["instance_id"]
    assert sent["name"] == hass.config.location_name
    link = entry.data[CONF_PORTAL]
    assert link["url"] == peer.url
    assert link["token"] == FakePortal.TOKEN
    assert link["company_name"] == "Acme Installers"

    await wait_until(hass, lambda: manager_of(entry).connected, "the channel")
    assert state_of(hass, "sensor", f"{PIN}_installer") == "Acme Installers"
    assert state_of(hass, "binary_sensor", f"{PIN}_portal_connection") == "on"
    assert state_of(hass, "binary_sensor", f"{PIN}_monitoring") == "off"
    hello = peer.of_type("hello")[0]["payload"]
    assert hello["pin"] == PIN
    assert hello["monitoring"] is False
    assert hello["window"] is None
    # Nothing about the box before monitoring is granted.
    assert not peer.of_type("snapshot")

    # The token never reaches diagnostics.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert FakePortal.TOKEN not in json.dumps(diagnostics)
    assert diagnostics["installer_portal"]["connected"] is True

    # Linked: the options offer to unlink only.
    menu, form, done = await choose_in_options(hass, entry, "unlink")
    assert menu["type"] == "menu"
    assert menu["menu_options"] == ["customer_account", "centre", "unlink"]
    assert form["step_id"] == "unlink"
    assert done["type"] == "create_entry"
    assert peer.unlink_requests == 1
    assert CONF_PORTAL not in entry.data
    assert state_of(hass, "sensor", f"{PIN}_installer") == "unknown"
    assert state_of(hass, "binary_sensor", f"{PIN}_portal_connection") == "off"
    await wait_until(hass, lambda: peer.ws is None, "the channel to close")


async def test_unlink_while_portal_down(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    await peer.stop()
    await wait_until(hass, lambda: not manager_of(linked).connected, "the disconnection")
    done = (await choose_in_options(hass, linked, "unlink")).done
    assert done["type"] == "create_entry"
    assert CONF_PORTAL not in linked.data
    assert manager_of(linked).link is None


async def test_unlinked_by_the_portal(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    # As the portal does: "unlinked", then it closes the socket.
    await peer.send(frame("unlinked", {}))
    await peer.drop()
    await wait_until(hass, lambda: CONF_PORTAL not in linked.data, "the link to be forgotten")
    assert state_of(hass, "sensor", f"{PIN}_installer") == "unknown"
    assert peer.unlink_requests == 0


async def test_token_refused_forgets_the_link(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal, freezer: FrozenDateTimeFactory
) -> None:
    peer.valid_tokens.clear()
    await peer.drop()
    await wait_until(hass, lambda: not manager_of(linked).connected, "the disconnection")
    await tick(hass, freezer, 2)
    await wait_until(hass, lambda: CONF_PORTAL not in linked.data, "the link to be forgotten")


async def test_options_abort_when_not_loaded(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    assert result["type"] == "abort"
    assert result["reason"] == "not_loaded"
