"""Binary sensors on the mock box client: every entity, a box without cloud fields, offline."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from ..common import device_of, entity_id, state_of
from .conftest import PIN

pytestmark = pytest.mark.parametrize("init_integration", [Platform.BINARY_SENSOR], indirect=True)


@pytest.mark.freeze_time("2026-11-23T10:00:00+00:00")
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
    entity_registry: er.EntityRegistry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)
    # The front door reports a low battery; the smoke detector is fine.
    assert state_of(hass, "binary_sensor", f"io://{PIN}/10338254_battery") == STATE_ON
    assert state_of(hass, "binary_sensor", f"io://{PIN}/10811422_battery") == STATE_OFF


@pytest.mark.parametrize("setup_fixture", ["setup_edge_cases.json"])
async def test_box_without_mode_or_update_fields(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """A firmware that reports neither mode nor update status: only the box's online sensor."""
    box_ids = {
        entry.unique_id
        for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if entry.unique_id.startswith(PIN)
    }
    assert f"{PIN}_online" in box_ids
    assert f"{PIN}_activated" not in box_ids
    assert f"{PIN}_firmware" not in box_ids
    assert state_of(hass, "binary_sensor", f"{PIN}_online") == STATE_ON


@pytest.mark.parametrize("setup_fixture", ["setup_edge_cases.json"])
async def test_offline_and_unknown_products(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    # Offline at setup: its online sensor says so instead of being unavailable.
    assert state_of(hass, "binary_sensor", f"io://{PIN}/20000003_online") == STATE_OFF
    # No status state, unknown widget and ui class: an io product still reports online.
    assert state_of(hass, "binary_sensor", f"io://{PIN}/20000001_online") == STATE_ON
    assert state_of(hass, "binary_sensor", f"io://{PIN}/20000002_online") == STATE_ON
    # Unknown classes name the device model as well as they can.
    assert device_of(hass, f"io://{PIN}/20000001").model == "Future gadget"
    assert device_of(hass, f"io://{PIN}/20000001").model_id == "io:FutureGadgetIOComponent"
    assert device_of(hass, f"io://{PIN}/20000002").model == "Unknown"
    # The slats of the blind (``#2``) belong to the blind's device.
    slats = entity_registry.async_get(
        entity_id(hass, "binary_sensor", f"io://{PIN}/20000005#2_online")
    )
    assert slats is not None
    assert slats.device_id == device_of(hass, f"io://{PIN}/20000005").id
    assert not [
        device
        for device in dr.async_entries_for_config_entry(device_registry, init_integration.entry_id)
        if ("somfy_pro", f"io://{PIN}/20000005#2") in device.identifiers
    ]
