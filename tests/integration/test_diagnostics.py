"""Diagnostics, with token, PIN and e-mail addresses redacted."""

from __future__ import annotations

import json

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.diagnostics import async_get_config_entry_diagnostics

from .common import PIN, SHUTTER, SMOKE, tick
from .conftest import TOKEN


async def test_diagnostics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to("2026-11-23T10:00:00+00:00")
    simulator.box.set_alert(SMOKE, "smoke", True)
    simulator.box.set_states(SHUTTER, {"core:NameState": "Ask jane.doe@example.com"})
    await tick(hass, freezer)
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    text = json.dumps(diagnostics)
    assert PIN not in text
    assert TOKEN not in text
    assert "jane.doe@example.com" not in text
    diagnostics["entry"]["data"]["host"] = "127.0.0.1:PORT"
    diagnostics.pop("pyoverkiz_major")
    assert diagnostics == snapshot


async def test_diagnostics_box_unreachable(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: BoxSimulator
) -> None:
    """The box's other devices are read at download time; without the box, the rest stays."""
    await simulator.set_online(False)
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    assert diagnostics["other_devices"] is None
    assert len(diagnostics["devices"]) == len(simulator.box.devices) - 1
