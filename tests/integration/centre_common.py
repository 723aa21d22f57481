"""Shared steps of the professional-monitoring tests: the options flow, a complete setup."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

FIRST_PASSWORD = "blue heron"
SECOND_PASSWORD = "red fox"
DURESS_PASSWORD = "green tea"
ADDRESS = {"street": "1 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR"}


async def centre_step(
    hass: HomeAssistant, entry: MockConfigEntry, step: str, user_input: dict[str, Any] | None
) -> dict[str, Any]:
    """Open the options, go to the monitoring menu, pick ``step``, submit ``user_input``."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] == "menu"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "centre"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    if user_input is not None:
        result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    return dict(result)


async def subscribe_complete(
    hass: HomeAssistant, entry: MockConfigEntry, user_id: str, duress: bool = True
) -> None:
    """Subscribe, set the first contact, the address and (``duress``) a duress password."""
    if entry.options.get("centre", {}).get("status") != "active":
        result = await centre_step(hass, entry, "centre_subscribe", {})
        assert result["type"] == "create_entry"
    result = await centre_step(
        hass,
        entry,
        "centre_first_contact",
        {"user": user_id, "phone": "06 12 34 56 78", "password": FIRST_PASSWORD},
    )
    assert result["type"] == "create_entry", result
    result = await centre_step(hass, entry, "centre_address", ADDRESS)
    assert result["type"] == "create_entry", result
    if duress:
        result = await centre_step(hass, entry, "centre_duress", {"password": DURESS_PASSWORD})
        assert result["type"] == "create_entry", result
