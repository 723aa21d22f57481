"""Helpers shared by the integration tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import async_fire_time_changed

PIN = "1234-5678-9012"
SHUTTER = f"io://{PIN}/11803671"
KITCHEN_SHUTTER = f"io://{PIN}/12639432"
REMOTE = f"io://{PIN}/15023911"
AWNING = f"rts://{PIN}/16719623"
FRONT_DOOR = f"io://{PIN}/10338254"
GARDEN_WINDOW = f"io://{PIN}/10338255"
MOTION = f"io://{PIN}/10552810"
SMOKE = f"io://{PIN}/10811422"
UPSTAIRS_SMOKE = f"io://{PIN}/10811423"


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 1) -> None:
    """Move time on so the coordinator fetches the box's events, and wait for it."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def entities_of(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    """Registry entries and states of an entry, in a form stable across HA versions."""
    registry = er.async_get(hass)
    result: dict[str, Any] = {}
    for entity in sorted(
        er.async_entries_for_config_entry(registry, entry_id), key=lambda e: e.unique_id
    ):
        state = hass.states.get(entity.entity_id)
        # Keyed by unique id: newer HA versions put the area in new entity ids.
        result[entity.unique_id] = {
            "domain": entity.domain,
            "translation_key": entity.translation_key,
            "original_device_class": entity.original_device_class,
            "entity_category": str(entity.entity_category) if entity.entity_category else None,
            "disabled_by": str(entity.disabled_by) if entity.disabled_by else None,
            "unit": entity.unit_of_measurement,
            "state": state.state if state else None,
            "attributes": {str(k): v for k, v in state.attributes.items()} if state else None,
        }
    return result


def devices_of(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    """Device registry entries of an entry, stable across HA versions."""
    registry = dr.async_get(hass)
    result: dict[str, Any] = {}
    for device in dr.async_entries_for_config_entry(registry, entry_id):
        via = registry.async_get(device.via_device_id) if device.via_device_id else None
        result[device.name or ""] = {
            "identifiers": sorted(device.identifiers),
            "manufacturer": device.manufacturer,
            "model": device.model,
            "model_id": device.model_id,
            "serial_number": device.serial_number,
            "sw_version": device.sw_version,
            "configuration_url": device.configuration_url,
            "via_device": via.name if via else None,
        }
    return dict(sorted(result.items()))


def entity_id(hass: HomeAssistant, domain: str, unique_id: str) -> str:
    """The entity id of an entity of this integration, from its unique id."""
    found = er.async_get(hass).async_get_entity_id(domain, "somfy_pro", unique_id)
    assert found is not None, f"no {domain} entity with unique id {unique_id}"
    return found


def state_of(hass: HomeAssistant, domain: str, unique_id: str) -> str | None:
    """The state of an entity of this integration, from its unique id."""
    state = hass.states.get(entity_id(hass, domain, unique_id))
    return state.state if state else None


def device_of(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry:
    """The registry device of the box (PIN) or of a product (device URL)."""
    registry = dr.async_get(hass)
    for entry in hass.config_entries.async_entries("somfy_pro"):
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if ("somfy_pro", identifier) in device.identifiers:
                return device
    raise AssertionError(f"no device {identifier}")


async def ticket_items(hass: HomeAssistant) -> list[dict[str, Any]]:
    """The items of the box's ticket to-do list, as ``todo.get_items`` answers them."""
    todo = entity_id(hass, "todo", f"{PIN}_tickets")
    response = await hass.services.async_call(
        "todo", "get_items", {}, target={"entity_id": todo}, blocking=True, return_response=True
    )
    items: list[dict[str, Any]] = response[todo]["items"]  # type: ignore[index, assignment]
    return items
