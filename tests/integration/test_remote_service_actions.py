"""Installer actions in a remote-service window: refusals, io parameters, reboot, web app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator

from .common import AWNING, REMOTE, SHUTTER, device_of, tick
from .conftest import TOKEN
from .remote_fixtures import COMPANY, installer_actions_of, linked_config_entry, wait_for
from .remote_service_common import NOW, OTHER_BOX, OTHER_PIN, UNKNOWN, act, grant, remote_of


async def test_kind_not_granted(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    await grant(hass, linked_entry, kinds=["parameters"])
    for kind in ("reboot", "pair_remote", "web_app"):
        result = await act(hass, linked_entry, kind=kind)
        assert result["error"] == "kind_not_granted", kind


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        # RTS products are one-way: nothing to change remotely.
        ({"device_url": AWNING, "parameter": "label", "value": "Awning"}, "rts_one_way"),
        ({"device_url": SHUTTER, "parameter": "my_position", "value": 150}, "value_out_of_range"),
        ({"device_url": SHUTTER, "parameter": "my_position", "value": -1}, "value_out_of_range"),
        ({"device_url": SHUTTER, "parameter": "my_position", "value": 2.5}, "invalid_value"),
        ({"device_url": SHUTTER, "parameter": "my_position", "value": "50"}, "invalid_value"),
        ({"device_url": SHUTTER, "parameter": "my_position", "value": True}, "invalid_value"),
        ({"device_url": SHUTTER, "parameter": "label", "value": "x" * 65}, "value_out_of_range"),
        ({"device_url": SHUTTER, "parameter": "label", "value": "  "}, "value_out_of_range"),
        ({"device_url": SHUTTER, "parameter": "label", "value": "a\nb"}, "invalid_value"),
        # A remote has a name but no "my" position.
        ({"device_url": REMOTE, "parameter": "my_position", "value": 10}, "parameter_not_editable"),
        ({"device_url": SHUTTER, "parameter": "speed", "value": 10}, "parameter_not_editable"),
        ({"device_url": UNKNOWN, "parameter": "label", "value": "x"}, "unknown_device"),
        ({"device_url": OTHER_BOX, "parameter": "label", "value": "x"}, "wrong_box"),
        ({"pin": OTHER_PIN, "device_url": SHUTTER, "parameter": "label", "value": 1}, "wrong_box"),
        ({"device_url": 12, "parameter": "label", "value": "x"}, "invalid_action"),
    ],
)  # fmt: skip
async def test_parameter_refusals(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
    payload: dict[str, Any],
    error: str,
) -> None:
    freezer.move_to(NOW)
    await grant(hass, linked_entry)
    before = {url: dict(device.states) for url, device in simulator.box.devices.items()}
    result = await act(hass, linked_entry, kind="parameters", **payload)
    assert result == {"action_id": "a-1", "ok": False, "error": error, "at": NOW}
    assert {url: dict(device.states) for url, device in simulator.box.devices.items()} == before
    record = remote_of(linked_entry).audit.records[-1]
    assert (record["type"], record["ok"], record["error"]) == ("action", False, error)


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "parameters"},  # no action_id
        {"action_id": "a-1", "kind": "teleport"},
        {"action_id": "a-1"},
    ],
)
async def test_malformed_actions(
    hass: HomeAssistant, linked_entry: MockConfigEntry, payload: dict[str, Any]
) -> None:
    await grant(hass, linked_entry)
    result = await installer_actions_of(linked_entry).async_handle_action(payload)
    assert result["ok"] is False
    assert result["error"] == "invalid_action"
    assert result["action_id"] == payload.get("action_id", "")
    assert (await installer_actions_of(linked_entry).async_handle_action("not a dict"))[
        "error"
    ] == ("invalid_action")


async def test_io_parameters_reach_the_box(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    await grant(hass, linked_entry, kinds=["parameters"])
    device = simulator.box.devices[SHUTTER]
    assert device.state("core:Memorized1PositionState") == 50
    result = await act(
        hass, linked_entry, kind="parameters", device_url=SHUTTER, parameter="my_position", value=30
    )
    assert result["ok"] is True
    await wait_for(lambda: device.state("core:Memorized1PositionState") == 30, "my position")
    result = await act(
        hass, linked_entry, action_id="a-2", kind="parameters", device_url=SHUTTER,
        parameter="label", value="  Lounge shutter ",
    )  # fmt: skip
    assert result["ok"] is True
    await wait_for(lambda: device.label == "Lounge shutter", "label")
    record = remote_of(linked_entry).audit.records[-2]
    assert record["installer"]["company"] == COMPANY
    assert (record["device_url"], record["parameter"], record["value"]) == (
        SHUTTER,
        "my_position",
        30,
    )
    assert record["previous"] == 50
    assert record["ok"] is True
    # The coordinator picks the new name up; the device is renamed in Home Assistant too.
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert device_of(hass, SHUTTER).name == "Lounge shutter"


async def test_box_unreachable_during_an_action(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    await grant(hass, linked_entry)
    await simulator.set_online(False)
    result = await act(
        hass, linked_entry, kind="parameters", device_url=SHUTTER, parameter="label", value="x"
    )
    assert result["error"] == "box_unreachable"
    await simulator.set_online(True)
    simulator.box.set_device_online(SHUTTER, False)
    await tick(hass, freezer)
    await tick(hass, freezer, 5 * 60)
    result = await act(
        hass, linked_entry, kind="parameters", device_url=SHUTTER, parameter="label", value="x"
    )
    assert result["error"] == "device_offline"


async def test_forged_action_for_another_box(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Each box only obeys its own window; a frame naming another box is refused."""
    freezer.move_to(NOW)
    other_sim = BoxSimulator(
        "large", token=TOKEN, port=0, state_dir=tmp_path / "other", move_seconds=0.05
    )
    await other_sim.start()
    try:
        other = linked_config_entry(other_sim, pin="2222-3333-4444")
        other.add_to_hass(hass)
        assert await hass.config_entries.async_setup(other.entry_id)
        await hass.async_block_till_done()
        assert other.state is ConfigEntryState.LOADED
        await grant(hass, linked_entry)  # only the first box
        other_device = next(url for url in other_sim.box.devices if url.startswith("io://"))
        payload = {"kind": "parameters", "parameter": "label", "value": "Pwned"}
        # Sent on the first box's channel, for a device of the other box.
        result = await act(hass, linked_entry, device_url=other_device, **payload)
        assert result["error"] == "wrong_box"
        # Sent on the other box's channel: it has no window.
        result = await act(hass, other, device_url=other_device, **payload)
        assert result["error"] == "window_closed"
        result = await act(hass, other, device_url=SHUTTER, **payload)
        assert result["error"] == "window_closed"
        await grant(hass, other, kinds=["web_app"])
        result = await act(hass, other, device_url=SHUTTER, **payload)
        assert result["error"] == "kind_not_granted"
        await hass.config_entries.async_unload(other.entry_id)
        await hass.async_block_till_done()
    finally:
        await other_sim.stop()


async def test_reboot(
    hass: HomeAssistant, linked_entry: MockConfigEntry, simulator: BoxSimulator
) -> None:
    """The box reboots (real time: the simulator takes it down for 0.3 s)."""
    await grant(hass, linked_entry, kinds=["reboot"])
    result = await act(hass, linked_entry, kind="reboot")
    assert result["ok"] is True
    await wait_for(lambda: not simulator.online, "the box going offline")
    await wait_for(lambda: simulator.online, "the box coming back")
    assert remote_of(linked_entry).audit.records[-1]["kind"] == "reboot"
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_web_app_is_recorded(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    await grant(hass, linked_entry, kinds=["web_app"])
    result = await act(hass, linked_entry, kind="web_app")
    assert result == {"action_id": "a-1", "ok": True, "at": NOW}
    record = remote_of(linked_entry).audit.records[-1]
    assert (record["kind"], record["ok"], record["installer"]["company"]) == (
        "web_app",
        True,
        COMPANY,
    )


async def test_web_app_commands_reach_the_box(
    hass: HomeAssistant, linked_entry: MockConfigEntry, simulator: BoxSimulator
) -> None:
    """The live control page's commands run on the product, checked like every action."""
    await grant(hass, linked_entry, kinds=["web_app"])
    result = await act(hass, linked_entry, kind="web_app", device_url=SHUTTER, command="close")
    assert result["ok"] is True
    shutter = simulator.box.devices[SHUTTER]
    await wait_for(lambda: shutter.state("core:ClosureState") == 100, "the shutter closing")
    record = remote_of(linked_entry).audit.records[-1]
    assert (record["kind"], record["command"], record["device"]) == (
        "web_app",
        "close",
        "Living room shutter",
    )
    refused = await act(hass, linked_entry, kind="web_app", device_url=SHUTTER, command="fly")
    assert (refused["ok"], refused["error"]) == (False, "invalid_action")
    other_box = await act(
        hass, linked_entry, kind="web_app", device_url="io://9999-9999-9999/1", command="open"
    )
    assert other_box["error"] == "wrong_box"
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_refused_without_a_loaded_box(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    await grant(hass, linked_entry)
    # What the channel held when the entry was loaded; the unload drops the runtime data.
    actions = installer_actions_of(linked_entry)
    await hass.config_entries.async_unload(linked_entry.entry_id)
    await hass.async_block_till_done()
    result = await actions.async_handle_action({"action_id": "a-1", "kind": "web_app"})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["error"] == "not_ready"
