"""Setup, unload, failures, re-authentication, and products paired or removed at the box."""

from __future__ import annotations

from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.scenario import DeviceSpec
from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.coordinator import token_issue_id

from .common import AWNING, FRONT_DOOR, PIN, SHUTTER, device_of, entity_id, state_of, tick
from .conftest import TOKEN, entry_data


async def test_setup_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    coordinator = init_integration.runtime_data.coordinator
    assert coordinator.client.listener_id is not None
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert coordinator.client.listener_id is None


async def test_box_unreachable_at_setup(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: BoxSimulator
) -> None:
    await simulator.set_online(False)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_token_rejected_at_setup(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: BoxSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    simulator.tokens.discard(TOKEN)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    issue = issue_registry.async_get_issue(DOMAIN, token_issue_id(mock_config_entry.entry_id))
    assert issue is not None
    assert issue.translation_key == "token_rejected"
    # Once a working token is in, the issue goes away.
    simulator.tokens.add(TOKEN)
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert (
        issue_registry.async_get_issue(DOMAIN, token_issue_id(mock_config_entry.entry_id)) is None
    )
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_token_revoked_while_running(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    simulator.tokens.discard(TOKEN)
    await tick(hass, freezer)
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert issue_registry.async_get_issue(DOMAIN, token_issue_id(init_integration.entry_id))
    assert state_of(hass, "sensor", f"{SHUTTER}_radio_level") == "unavailable"


async def test_another_box_at_the_address(
    hass: HomeAssistant, simulator: BoxSimulator, tmp_path: Path
) -> None:
    other = BoxSimulator("large", token=TOKEN, port=0, state_dir=tmp_path / "other")
    await other.start()
    try:
        entry = MockConfigEntry(domain=DOMAIN, unique_id=PIN, data=entry_data(other))
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_ERROR
        assert entry.reason is not None
    finally:
        await other.stop()


async def test_box_error_makes_entities_unavailable(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An error answer of the box (not a connection failure): unavailable, then recovered."""
    from unittest.mock import patch

    from custom_components.somfy_pro.box_api import BoxError

    with patch(
        "custom_components.somfy_pro.box_api.BoxClient.fetch_events",
        side_effect=BoxError("Internal error"),
    ):
        await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{SHUTTER}_radio_level") == "unavailable"
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{SHUTTER}_radio_level") == "82"


async def test_product_paired_and_unpaired(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    spec = DeviceSpec(
        profile=simulator.profiles["io_contact_sensor"],
        address="19000001",
        label="Garage door",
        place="Garage",
    )
    device = simulator.box.pair(spec)
    await tick(hass, freezer)
    garage = device_of(hass, device.url)
    assert garage.name == "Garage door"
    assert garage.via_device_id == device_of(hass, PIN).id
    level = device.state("core:RSSILevelState")
    assert state_of(hass, "sensor", f"{device.url}_radio_level") == str(level)
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "12"

    simulator.box.unpair(device.url)
    await tick(hass, freezer)
    registry = dr.async_get(hass)
    assert registry.async_get(garage.id) is None
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "11"

    # Paired again: back without a restart.
    simulator.box.pair(spec)
    await tick(hass, freezer)
    assert device_of(hass, device.url).name == "Garage door"
    assert entity_id(hass, "sensor", f"{device.url}_radio_level")


async def test_renamed_product(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    simulator.box.devices[SHUTTER].label = "Salon"
    simulator.box.emit("DeviceUpdatedEvent", deviceURL=SHUTTER)
    await tick(hass, freezer)
    assert device_of(hass, SHUTTER).name == "Salon"


async def test_stale_devices_removed_at_setup(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: BoxSimulator
) -> None:
    mock_config_entry.add_to_hass(hass)
    registry = dr.async_get(hass)
    stale = registry.async_get_or_create(
        config_entry_id=mock_config_entry.entry_id,
        identifiers={(DOMAIN, f"io://{PIN}/99999999")},
        name="Old sensor",
    )
    simulator.box.unpair(FRONT_DOOR)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get(stale.id) is None
    names = {
        d.name for d in dr.async_entries_for_config_entry(registry, mock_config_entry.entry_id)
    }
    assert "Front door" not in names
    assert "Terrace awning" in names
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_remove_config_entry_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
) -> None:
    from custom_components.somfy_pro import async_remove_config_entry_device

    registry = dr.async_get(hass)
    awning = device_of(hass, AWNING)
    assert not await async_remove_config_entry_device(hass, init_integration, awning)
    assert not await async_remove_config_entry_device(hass, init_integration, device_of(hass, PIN))
    ghost = registry.async_get_or_create(
        config_entry_id=init_integration.entry_id,
        identifiers={(DOMAIN, f"io://{PIN}/99999999")},
        name="Ghost",
    )
    assert await async_remove_config_entry_device(hass, init_integration, ghost)


async def test_periodic_setup_refresh(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A change the box announced no event for shows up at the next full read."""
    simulator.box.devices[SHUTTER].states["core:RSSILevelState"] = (1, 5)
    await tick(hass, freezer)
    assert state_of(hass, "sensor", f"{SHUTTER}_radio_level") == "82"
    listener = init_integration.runtime_data.client.listener_id
    await tick(hass, freezer, 5 * 60)
    assert state_of(hass, "sensor", f"{SHUTTER}_radio_level") == "5"
    # The listener is kept: one on the box, the same as before.
    assert list(simulator.box.listeners) == [listener]


async def test_sub_devices_share_the_product_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """``io://PIN/123#2`` is a part of ``io://PIN/123``: one device for both."""
    profile = simulator.profiles["io_contact_sensor"]
    main = simulator.box.pair(DeviceSpec(profile=profile, address="19000010", label="Combo"))
    part = simulator.box.pair(DeviceSpec(profile=profile, address="19000010#2", label="Part"))
    await tick(hass, freezer)
    combo = device_of(hass, main.url)
    registry = er.async_get(hass)
    part_entity = registry.async_get(entity_id(hass, "binary_sensor", f"{part.url}_contact"))
    assert part_entity.device_id == combo.id
    # One radio per product: its level is the main part's.
    radio = registry.async_get_entity_id("sensor", DOMAIN, f"{main.url}_radio_level")
    assert registry.async_get(radio).device_id == combo.id
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{part.url}_radio_level") is None
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "12"


async def test_box_reboot(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A reboot (as the simulator does it): unreachable, then back without our listener."""
    before = init_integration.runtime_data.client.listener_id
    await simulator.set_online(False)
    simulator.box.forget_volatile()
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{PIN}_online") == "off"
    await simulator.set_online(True)
    await tick(hass, freezer)
    assert state_of(hass, "binary_sensor", f"{PIN}_online") == "on"
    after = init_integration.runtime_data.client.listener_id
    assert after not in (None, before)
    assert list(simulator.box.listeners) == [after]
