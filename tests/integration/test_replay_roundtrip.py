"""A box's diagnostics download, replayed by the simulator, gives the same entities.

This is how a user's box is reproduced from a report: the download is served verbatim by a
second simulator, and a second config entry on it must see what the first one saw.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory

# The download's system info imports hassio, whose models cannot be built while the test's
# clock is frozen: import it first.
from homeassistant.components import hassio  # noqa: F401
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN

from .common import (
    AWNING,
    FRONT_DOOR,
    GARDEN_WINDOW,
    KITCHEN_SHUTTER,
    PIN,
    SHUTTER,
    SMOKE,
    devices_of,
    entities_of,
    tick,
)
from .conftest import TOKEN, entry_data

# What the simulator makes of the download's "**REDACTED**" PIN.
REPLAYED_PIN = "0000-0000-0001"


async def download(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> dict[str, Any]:
    """The diagnostics file exactly as a user downloads it from Home Assistant."""
    assert await async_setup_component(hass, "diagnostics", {})
    client = await hass_client()
    response = await client.get(f"/api/diagnostics/config_entry/{entry.entry_id}")
    assert response.status == 200
    downloaded: dict[str, Any] = await response.json()
    return downloaded


def with_pin(value: Any, pin: str) -> Any:
    """Entities or devices named with the first box's PIN, as JSON (tuples become lists)."""
    return json.loads(json.dumps(value).replace(pin, PIN))


def entities(hass: HomeAssistant, entry: MockConfigEntry, pin: str = PIN) -> dict[str, Any]:
    """Entities of an entry named with the first box's PIN, registry device ids left out.

    (An alert event names its product's registry device, which each entry has its own of:
    ``device_name`` says which product it is.)
    """
    found = with_pin(entities_of(hass, entry.entry_id), pin)
    for entity in found.values():
        if entity["attributes"]:
            entity["attributes"].pop("device_id", None)
    return found


async def test_diagnostics_download_replays_the_box(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    box = simulator.box
    # What real boxes send, before the first read: the download must carry all of it.
    box.set_device_online(SHUTTER, False)
    box.set_states(KITCHEN_SHUTTER, {"core:ManufacturerSettingsState": {"a": [1, 2]}})
    box.set_states(FRONT_DOOR, {"core:BatteryLevelState": "100%", "core:ActiveZonesState": None})
    box.set_states(GARDEN_WINDOW, {"core:RSSILevelState": 45.908})
    box.set_states(SMOKE, {"core:SensorDefectState": "maintenanceRequired"})
    first = MockConfigEntry(
        domain=DOMAIN, title=f"TaHoma Switch {PIN}", unique_id=PIN, data=entry_data(simulator)
    )
    first.add_to_hass(hass)
    assert await hass.config_entries.async_setup(first.entry_id)
    await hass.async_block_till_done()

    downloaded = await download(hass, hass_client, first)
    assert PIN not in json.dumps(downloaded)
    path = tmp_path / "config_entry-somfy_pro.json"
    path.write_text(json.dumps(downloaded), encoding="utf-8")

    second = BoxSimulator(str(path), token=TOKEN, port=0, state_dir=tmp_path / "replayed")
    await second.start()
    try:
        assert second.box.pin == REPLAYED_PIN
        assert set(second.box.devices) == {
            url.replace(PIN, REPLAYED_PIN) for url in simulator.box.devices
        }
        replayed = MockConfigEntry(
            domain=DOMAIN,
            title=f"TaHoma Switch {REPLAYED_PIN}",
            unique_id=REPLAYED_PIN,
            data=entry_data(second),
        )
        replayed.add_to_hass(hass)
        assert await hass.config_entries.async_setup(replayed.entry_id)
        await hass.async_block_till_done()

        original = entities(hass, first)
        assert len(original) > 50
        assert entities(hass, replayed, REPLAYED_PIN) == original
        assert with_pin(devices_of(hass, replayed.entry_id), REPLAYED_PIN) == with_pin(
            devices_of(hass, first.entry_id), PIN
        )

        # The replayed box plays on: events reach the second entry like the first.
        for sim, url in ((simulator, AWNING), (second, AWNING.replace(PIN, REPLAYED_PIN))):
            sim.box.set_device_online(url, False)
        await tick(hass, freezer, 30)
        assert entities(hass, replayed, REPLAYED_PIN) == entities(hass, first)
    finally:
        for entry in hass.config_entries.async_entries(DOMAIN):
            await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await second.stop()
