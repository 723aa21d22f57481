"""Real boxes' devices, parsed from raw ``GET setup`` dumps by the real pyoverkiz.

Devices the box describes incompletely are skipped, the box's own parts (stacks, bridges,
Wi-Fi, the box itself) are no products, and the sub-devices of one product are one registry
device with one radio level.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.somfy_pro.box_api import parse_setup
from custom_components.somfy_pro.const import DOMAIN, SETUP_REFRESH_INTERVAL, STATE_RSSI
from custom_components.somfy_pro.products import radio_urls

from ..common import state_of, tick
from .conftest import PIN

DUMPS = Path(__file__).parents[2] / "dumps"
SONOS = "devices_2026_sonos.json"
SUB_DEVICES = "devices_sub_devices.json"
VALVE = f"io://{PIN}/12345678"
GARDEN = f"io://{PIN}/4567890"
IO_STACK = f"io://{PIN}/6354142"
BOX_PARTS = [
    f"internal://{PIN}/pod/0",
    f"internal://{PIN}/wifi/0",
    IO_STACK,
    f"zigbee://{PIN}/65535",
    f"zigbee://{PIN}/65534",
    f"homekit://{PIN}/stack",
    f"hue://{PIN}/001788fffe4b5c6d",
    f"ogp://{PIN}/00000BE8",
]
INCOMPLETE = [f"ogp://{PIN}/0003FEF3", f"ogp://{PIN}/0003FEF4"]


def load_dump(name: str) -> Any:
    """A raw ``GET setup`` answer of ``tests/dumps``."""
    return json.loads((DUMPS / name).read_text(encoding="utf-8"))


@pytest.fixture
def dump() -> str:
    """The dump the box answers with (override per test)."""
    return SONOS


@pytest.fixture
def mock_box_client(mock_box_client: MagicMock, dump: str) -> MagicMock:
    """The mock client answering with the dump, parsed as the real client parses it."""
    mock_box_client.get_setup.side_effect = lambda: parse_setup(load_dump(dump))
    return mock_box_client


def registry_devices(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, dr.DeviceEntry]:
    """The entry's registry devices by identifier."""
    return {
        identifier: device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        for _, identifier in device.identifiers
    }


def unique_ids(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """The unique ids of the entry's entities."""
    registry = er.async_get(hass)
    return {e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}


@pytest.mark.parametrize("name", [SONOS, SUB_DEVICES])
def test_incomplete_devices_skipped_with_one_debug_line(
    caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """Bridge devices without definition, name or type are left out, said once each."""
    caplog.set_level(logging.DEBUG, logger="custom_components.somfy_pro")
    raw = load_dump(name)
    logged: set[str] = set()
    setup = parse_setup(raw, logged)
    parse_setup(raw, logged)  # the periodic re-read says nothing more
    skipped = [url for url in INCOMPLETE if any(d["deviceURL"] == url for d in raw["devices"])]
    assert sorted(setup.devices) == sorted(
        d["deviceURL"] for d in raw["devices"] if d["deviceURL"] not in skipped
    )
    lines = [r.getMessage() for r in caplog.records if "Skipping device" in r.getMessage()]
    assert len(lines) == len(skipped)
    for url in skipped:
        (line,) = [line for line in lines if url in line]
        assert "controllableName, type, definition" in line
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_device_pyoverkiz_cannot_build_is_skipped() -> None:
    """A device with every field but one pyoverkiz rejects does not sink the box."""
    raw = load_dump(SONOS)
    broken = next(d for d in raw["devices"] if d["deviceURL"].startswith("rts://"))
    broken["definition"]["commands"] = "not a list"
    setup = parse_setup(raw)
    assert broken["deviceURL"] not in setup.devices
    assert f"io://{PIN}/16572312" in setup.devices


async def test_box_parts_are_not_products(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Stacks, bridges, Wi-Fi and the box itself: no registry device, entity or count."""
    devices = registry_devices(hass, init_integration)
    assert sorted(devices) == sorted(
        [PIN, f"io://{PIN}/16572312", f"io://{PIN}/11803671", f"rts://{PIN}/16731054", VALVE]
    )
    assert devices[PIN].name == "TaHoma switch"
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "4"
    ids = unique_ids(hass, init_integration)
    assert not [uid for uid in ids if any(uid.startswith(f"{url}_") for url in BOX_PARTS)]
    assert f"{IO_STACK}_online" not in ids
    coordinator = init_integration.runtime_data.coordinator
    assert not set(coordinator.data.devices) & set(BOX_PARTS + INCOMPLETE)


@pytest.mark.parametrize("dump", [SUB_DEVICES])
async def test_sub_devices_are_one_product(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """``#1`` and ``#2`` are one registry device, described by ``#1``, one radio level."""
    devices = registry_devices(hass, init_integration)
    assert sorted(devices) == sorted([PIN, VALVE, GARDEN])
    valve = devices[VALVE]
    assert (valve.name, valve.model, valve.model_id, valve.sw_version) == (
        "Bedroom radiator",
        "Heating system",
        "io:HeatingValveIOComponent",
        "5136025X07",
    )
    garden = devices[GARDEN]
    assert (garden.name, garden.model_id, garden.sw_version) == (
        "Garden sensor",
        "io:TemperatureIOSystemSensor",
        "5129814A01",
    )
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "2"
    registry = er.async_get(hass)
    radio = {
        e.unique_id: e.device_id
        for e in er.async_entries_for_config_entry(registry, init_integration.entry_id)
        if e.unique_id.endswith(("_radio_level", "_radio_quality"))
    }
    # The valve's #1 reports no radio level: its product's is #2's; the garden sensor's #1's.
    assert radio == {
        f"{VALVE}#2_radio_level": valve.id,
        f"{VALVE}#2_radio_quality": valve.id,
        f"{GARDEN}#1_radio_level": garden.id,
        f"{GARDEN}#1_radio_quality": garden.id,
    }
    assert state_of(hass, "sensor", f"{VALVE}#2_radio_level") == "61"
    # Every sub-device keeps its own entities, on the product's device.
    for url, product in ((f"{VALVE}#1", valve), (f"{VALVE}#2", valve), (f"{GARDEN}#2", garden)):
        online = registry.async_get_entity_id("binary_sensor", DOMAIN, f"{url}_online")
        assert online is not None
        assert registry.async_get(online).device_id == product.id
        assert state_of(hass, "binary_sensor", f"{url}_online") == "on"


@pytest.mark.parametrize("dump", [SUB_DEVICES, SONOS])
async def test_reread_writes_no_registry(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_box_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The periodic re-read of the setup leaves the device registry as it is."""
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    updates: list[Event] = []
    hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, updates.append)
    reads = mock_box_client.get_setup.call_count
    for _ in range(3):
        await tick(hass, freezer, SETUP_REFRESH_INTERVAL.total_seconds() + 1)
    assert mock_box_client.get_setup.call_count == reads + 3
    assert updates == []


@pytest.mark.parametrize("dump", [SUB_DEVICES])
async def test_duplicate_radio_levels_removed(
    hass: HomeAssistant,
    mock_box_client: MagicMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Radio entities earlier versions gave every sub-device: the chosen one's is kept."""
    mock_config_entry.add_to_hass(hass)
    registry = er.async_get(hass)
    kept = registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{GARDEN}#1_radio_level",
        config_entry=mock_config_entry,
        suggested_object_id="garden_radio_level",
    )
    gone = [
        registry.async_get_or_create(
            "sensor", DOMAIN, f"{url}_{key}", config_entry=mock_config_entry
        ).entity_id
        for url in (f"{GARDEN}#2", f"{VALVE}#1")
        for key in ("radio_level", "radio_quality")
    ]
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get(kept.entity_id) is not None
    assert state_of(hass, "sensor", f"{GARDEN}#1_radio_level") == "44"
    assert [entity_id for entity_id in gone if registry.async_get(entity_id)] == []


def test_radio_stays_on_the_sub_device_chosen() -> None:
    """The main sub-device first; but a choice made stays while its sub-device reports."""
    devices = parse_setup(load_dump(SUB_DEVICES)).devices
    first = radio_urls(devices, (STATE_RSSI,))
    assert first == {f"{VALVE}#2", f"{GARDEN}#1"}
    devices[f"{VALVE}#1"].states[STATE_RSSI] = 50.0
    assert radio_urls(devices, (STATE_RSSI,)) == {f"{VALVE}#1", f"{GARDEN}#1"}
    assert radio_urls(devices, (STATE_RSSI,), first) == first
    del devices[f"{VALVE}#2"]
    assert radio_urls(devices, (STATE_RSSI,), first) == {f"{VALVE}#1", f"{GARDEN}#1"}


async def test_box_parts_of_earlier_versions_removed(
    hass: HomeAssistant, mock_box_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """The io stack's registry device and "online" entity of an earlier version go."""
    mock_config_entry.add_to_hass(hass)
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    stack = devices.async_get_or_create(
        config_entry_id=mock_config_entry.entry_id,
        identifiers={(DOMAIN, IO_STACK)},
        name="IO (6354142)",
    )
    online = entities.async_get_or_create(
        "binary_sensor",
        DOMAIN,
        f"{IO_STACK}_online",
        config_entry=mock_config_entry,
        device_id=stack.id,
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert devices.async_get(stack.id) is None
    assert entities.async_get(online.entity_id) is None
    assert state_of(hass, "sensor", f"{PIN}_paired_devices") == "4"
