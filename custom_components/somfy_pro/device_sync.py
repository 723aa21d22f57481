"""The device registry after each read of the box: the hub, one device per product, no more."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import (
    ATTRIBUTE_FIRMWARE,
    ATTRIBUTE_MANUFACTURER,
    CONFIGURATION_URL,
    DOMAIN,
    LOGGER,
    MANUFACTURER,
)
from .products import RADIO_ENTITY_KEYS, first_value, products

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigEntry

    from .box_api import Device, Gateway


def model_name(ui_class: str) -> str:
    """``RollerShutter`` -> ``Roller shutter``."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", ui_class)
    if not words:
        return ui_class or "Unknown"
    text = " ".join(words)
    return text[0].upper() + text[1:].lower()


@callback
def async_sync_devices(
    hass: HomeAssistant,
    entry: ConfigEntry,
    gateway: Gateway,
    hub_name: str,
    devices: Mapping[str, Device],
    radio_urls: frozenset[str],
) -> dict[str, str]:
    """Create or update the hub and product devices; remove those no longer paired.

    Returns the registry device id of the box (by PIN) and of every product (by base URL).
    Nothing is written when nothing changed: a product made of sub-devices is described by
    its main one only, so its model and firmware do not change from one read to the next.
    """
    registry = dr.async_get(hass)
    hub = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, gateway.id)},
        manufacturer=MANUFACTURER,
        model=gateway.model or "Somfy box",
        name=hub_name,
        serial_number=gateway.id,
        sw_version=gateway.firmware,
        configuration_url=CONFIGURATION_URL,
    )
    device_ids = {gateway.id: hub.id}
    for base_url, parts in products(devices).items():
        main = parts[0]
        product = registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(DOMAIN, base_url)},
            manufacturer=first_value(parts, ATTRIBUTE_MANUFACTURER) or MANUFACTURER,
            model=model_name(main.ui_class),
            model_id=main.controllable_name,
            name=main.label,
            sw_version=first_value(parts, ATTRIBUTE_FIRMWARE),
            suggested_area=main.place,
        )
        if product.via_device_id != hub.id or product.name != main.label:
            registry.async_update_device(product.id, name=main.label, via_device_id=hub.id)
        device_ids[base_url] = product.id
    keep = set(device_ids.values())
    for stale in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if stale.id not in keep:
            LOGGER.debug("Removing device %s, no longer paired with the box", stale.name)
            registry.async_remove_device(stale.id)
    _async_remove_duplicate_radio(hass, entry, devices, radio_urls)
    return device_ids


@callback
def _async_remove_duplicate_radio(
    hass: HomeAssistant, entry: ConfigEntry, devices: Mapping[str, Device], radio: frozenset[str]
) -> None:
    """Drop radio entities of sub-devices that do not stand for their product's radio.

    Earlier versions gave every sub-device its own; their unique ids (``URL_key``) are kept
    for the sub-device chosen, the others go.
    """
    registry = er.async_get(hass)
    duplicates = {
        f"{url}_{key}" for url in devices if url not in radio for key in RADIO_ENTITY_KEYS
    }
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id in duplicates:
            LOGGER.debug("Removing %s: its product has one radio level", entity.entity_id)
            registry.async_remove(entity.entity_id)
