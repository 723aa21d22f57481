"""Sensors on the mock box client: every entity, and values the box reports oddly."""

from __future__ import annotations

from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from ..common import device_of, state_of
from .conftest import PIN

pytestmark = pytest.mark.parametrize("init_integration", [Platform.SENSOR], indirect=True)


@pytest.mark.freeze_time("2026-11-23T10:00:00+00:00")
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)
    # Every product entity sits on its product's device, every box entity on the box.
    for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id):
        assert entry.device_id is not None
        device = device_registry.async_get(entry.device_id)
        assert device is not None
        (identifier,) = (value for domain, value in device.identifiers if domain == "somfy_pro")
        if identifier == PIN:
            assert not entry.unique_id.startswith(("io://", "rts://"))
        else:
            assert entry.unique_id.startswith(identifier)


@pytest.mark.parametrize("setup_fixture", ["setup_edge_cases.json"])
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_odd_values_are_unknown(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A radio level that is not a number, a quality or battery outside the known values."""
    cellar = f"io://{PIN}/20000004"
    assert state_of(hass, "sensor", f"{cellar}_radio_level") == STATE_UNKNOWN
    assert state_of(hass, "sensor", f"{cellar}_radio_quality") == STATE_UNKNOWN
    assert state_of(hass, "sensor", f"{cellar}_battery_level") == STATE_UNKNOWN


@pytest.mark.parametrize("setup_fixture", ["setup_edge_cases.json"])
async def test_missing_states_make_no_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Sensors exist only for the states a product reports, whatever its widget or class."""
    unique_ids = {
        entry.unique_id
        for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
    }
    product_ids = {uid for uid in unique_ids if uid.startswith("io://")}
    assert product_ids == {
        # An unknown widget and ui class: its radio level still gets a sensor.
        f"io://{PIN}/20000001_radio_level",
        f"io://{PIN}/20000004_radio_level",
        f"io://{PIN}/20000004_radio_quality",
        f"io://{PIN}/20000004_battery_level",
        f"io://{PIN}/20000005_radio_level",
    }
    assert state_of(hass, "sensor", f"io://{PIN}/20000001_radio_level") == "40"
    # Two paired products share one base URL (a blind and its slats): counted once.
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "5"


async def test_paired_devices_skip_the_box_itself(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The box's own ``internal://.../pod/`` device is not a paired product: it names the hub."""
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "5"
    assert device_of(hass, PIN).name == "Maison"
