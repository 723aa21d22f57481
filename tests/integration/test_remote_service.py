"""Remote-service windows: grant, revoke, persistence, expiry on HA's clock, and refusals."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.remote_service import RemoteService
from custom_components.somfy_pro.remote_window import KINDS

from .common import AWNING, PIN, REMOTE, SHUTTER, device_of, state_of, tick
from .conftest import TOKEN
from .remote_fixtures import COMPANY, Outgoing, installer_actions_of, linked_config_entry, wait_for

NOW = "2026-11-23T10:00:00+00:00"
OTHER_PIN = "2222-3333-4444"
OTHER_BOX = f"io://{OTHER_PIN}/11803671"
UNKNOWN = f"io://{PIN}/99999999"


def remote_of(entry: MockConfigEntry) -> RemoteService:
    """The remote-service manager of a loaded entry."""
    remote: RemoteService = entry.runtime_data.remote_service
    return remote


async def grant(hass: HomeAssistant, entry: MockConfigEntry, **data: Any) -> dict[str, Any] | None:
    """Call somfy_pro.grant_remote_service for the entry, returning its response."""
    response = await hass.services.async_call(
        DOMAIN,
        "grant_remote_service",
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return response


async def act(hass: HomeAssistant, entry: MockConfigEntry, **payload: Any) -> dict[str, Any]:
    """Hand an ``action`` frame's payload to the integration."""
    payload.setdefault("action_id", "a-1")
    result = await installer_actions_of(entry).async_handle_action(payload)
    await hass.async_block_till_done(wait_background_tasks=True)
    return result


async def jump(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move time on by ``delta`` with no request to the box in flight (it would time out)."""
    await hass.async_block_till_done(wait_background_tasks=True)
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def window_states(hass: HomeAssistant) -> tuple[str | None, str | None, str | None]:
    """Window open, until and installer entities of the box."""
    return (
        state_of(hass, "binary_sensor", f"{PIN}_remote_service"),
        state_of(hass, "sensor", f"{PIN}_remote_service_until"),
        state_of(hass, "sensor", f"{PIN}_remote_service_installer"),
    )


async def test_grant_with_the_service(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    outgoing: Outgoing,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    assert window_states(hass) == ("off", "unknown", "unknown")
    response = await grant(hass, linked_entry)
    until = dt_util.parse_datetime(NOW) + timedelta(hours=8)  # type: ignore[operator]
    assert response is not None
    assert response["until"] == until.isoformat()
    assert response["kinds"] == list(KINDS)
    assert response["company"] == COMPANY
    assert window_states(hass) == ("on", until.isoformat(), COMPANY)
    assert outgoing.of_type("window") == [
        {"request_id": None, "state": "granted", "until": until.isoformat(), "kinds": list(KINDS)}
    ]
    audit = remote_of(linked_entry).audit
    assert [(r["type"], r["state"]) for r in audit.records] == [("window", "granted")]
    assert remote_of(linked_entry).hello_window() == {
        "until": until.isoformat(),
        "kinds": list(KINDS),
    }


async def test_grant_on_a_device_target_with_kinds(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    await hass.services.async_call(
        DOMAIN,
        "grant_remote_service",
        {"hours": 0.25, "kinds": ["web_app", "parameters"]},
        target={"device_id": device_of(hass, PIN).id},
        blocking=True,
    )
    window = remote_of(linked_entry).current
    assert window is not None
    assert window.kinds == ("parameters", "web_app")
    assert window.until - window.granted_at == timedelta(minutes=15)
    # A product of the box designates the box too; with a single box no target is needed.
    await hass.services.async_call(
        DOMAIN,
        "grant_remote_service",
        {"hours": 1},
        target={"device_id": device_of(hass, SHUTTER).id},
        blocking=True,
    )
    await hass.services.async_call(DOMAIN, "revoke_remote_service", {}, blocking=True)
    assert remote_of(linked_entry).current is None


@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        ({"hours": 9}, "remote_hours_invalid", {"hours": "9", "min": "0.25", "max": "8"}),
        ({"hours": 0.1}, "remote_hours_invalid", {"hours": "0.1", "min": "0.25", "max": "8"}),
        ({"kinds": ["reboot", "dance"]}, "remote_kind_unknown", {"kind": "dance"}),
        ({"config_entry_id": "nope"}, "remote_unknown_target", {"target": "nope"}),
        ({"device_id": "nope"}, "remote_unknown_target", {"target": "nope"}),
    ],
)
async def test_grant_refuses_bad_input(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "grant_remote_service",
            {"config_entry_id": linked_entry.entry_id, **data},
            blocking=True,
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert err.value.translation_placeholders == placeholders
    assert remote_of(linked_entry).current is None


async def test_grant_needs_a_linked_installer(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "grant_remote_service", {}, blocking=True)
    assert err.value.translation_key == "remote_not_linked"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "revoke_remote_service", {}, blocking=True)
    assert err.value.translation_key == "remote_no_window"


async def test_service_needs_a_loaded_box(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(linked_entry.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await grant(hass, linked_entry)
    assert err.value.translation_key == "remote_entry_not_loaded"


async def test_revoke_mid_session(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    outgoing: Outgoing,
    simulator: BoxSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    await grant(hass, linked_entry, kinds=["parameters"])
    result = await act(
        hass, linked_entry, kind="parameters", device_url=SHUTTER, parameter="my_position", value=20
    )
    assert result == {"action_id": "a-1", "ok": True, "at": NOW}
    await hass.services.async_call(
        DOMAIN, "revoke_remote_service", {"config_entry_id": linked_entry.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert window_states(hass) == ("off", "unknown", "unknown")
    assert [p["state"] for p in outgoing.of_type("window")] == ["granted", "revoked"]
    result = await act(
        hass, linked_entry, action_id="a-2", kind="parameters", device_url=SHUTTER,
        parameter="my_position", value=70,
    )  # fmt: skip
    assert result == {"action_id": "a-2", "ok": False, "error": "window_closed", "at": NOW}
    assert simulator.box.devices[SHUTTER].state("core:Memorized1PositionState") != 70


async def test_expiry_on_home_assistants_clock(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    outgoing: Outgoing,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    await grant(hass, linked_entry, hours=2)
    await hass.async_block_till_done(wait_background_tasks=True)
    # Time moves on but the timer has not fired yet: the window is closed all the same.
    freezer.tick(timedelta(hours=2))
    result = await act(hass, linked_entry, kind="web_app")
    assert result["error"] == "window_closed"
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert window_states(hass) == ("off", "unknown", "unknown")
    window_frames = outgoing.of_type("window")
    assert [p["state"] for p in window_frames] == ["granted", "expired"]
    records = remote_of(linked_entry).audit.records
    assert [(r["type"], r.get("state"), r.get("error")) for r in records] == [
        ("window", "granted", None),
        ("action", None, "window_closed"),
        ("window", "expired", None),
    ]


async def test_window_survives_a_reload_and_expires_after(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    await grant(hass, linked_entry, hours=3, kinds=["reboot"])
    assert await hass.config_entries.async_reload(linked_entry.entry_id)
    await hass.async_block_till_done()
    window = remote_of(linked_entry).current
    assert window is not None
    assert window.kinds == ("reboot",)
    assert window_states(hass)[0] == "on"
    await jump(hass, freezer, timedelta(hours=3))
    assert remote_of(linked_entry).current is None
    assert window_states(hass)[0] == "off"
    assert remote_of(linked_entry).audit.records[-1]["state"] == "expired"


async def test_window_expired_while_home_assistant_was_stopped(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    await grant(hass, linked_entry, hours=1, kinds=["reboot"])
    await hass.async_block_till_done(wait_background_tasks=True)
    await hass.config_entries.async_unload(linked_entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(timedelta(hours=9))
    assert await hass.config_entries.async_setup(linked_entry.entry_id)
    await hass.async_block_till_done()
    assert remote_of(linked_entry).current is None
    records = remote_of(linked_entry).audit.records
    assert [r.get("state") for r in records] == ["granted", "expired"]
    assert remote_of(linked_entry).audit.verify().ok
    # The portal is told, as when the window expires on time: the frame waits in the outbox.
    until = dt_util.parse_datetime(NOW) + timedelta(hours=1)  # type: ignore[operator]
    window_frames = [f for f in linked_entry.runtime_data.portal.outbox if f["type"] == "window"]
    assert [f["payload"] for f in window_frames] == [
        {"request_id": None, "state": "granted", "until": until.isoformat(), "kinds": ["reboot"]},
        {"request_id": None, "state": "expired", "until": until.isoformat(), "kinds": ["reboot"]},
    ]


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


def test_issue_translations_exist() -> None:
    """The repair issue of a request is translated (its key is used by the actions module)."""
    import json

    strings = json.loads(
        (Path(__file__).parents[2] / "custom_components" / "somfy_pro" / "strings.json").read_text(
            encoding="utf-8"
        )
    )
    assert "remote_service_request" in strings["issues"]
    assert set(strings["selector"]["kinds"]["options"]) == set(KINDS)


async def test_request_issue_removed_with_the_entry(
    hass: HomeAssistant, linked_entry: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    from custom_components.somfy_pro.installer_actions import request_issue_id

    installer_actions_of(linked_entry).async_handle_request_remote_service(
        {"request_id": "r-1", "kinds": ["reboot"], "hours": 8}
    )
    assert issue_registry.async_get_issue(DOMAIN, request_issue_id(linked_entry.entry_id))
    await hass.config_entries.async_remove(linked_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, request_issue_id(linked_entry.entry_id)) is None


async def test_unlinking_ends_the_window(
    hass: HomeAssistant, linked_entry: MockConfigEntry, outgoing: Outgoing
) -> None:
    await grant(hass, linked_entry)
    # Linked to another company: the window of the first one ends.
    other = {**linked_entry.data["portal"], "company_id": "8", "company_name": "Other Co"}
    hass.config_entries.async_update_entry(
        linked_entry, data={**linked_entry.data, "portal": other}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert remote_of(linked_entry).current is None
    assert window_states(hass)[0] == "off"
    assert remote_of(linked_entry).audit.records[-1]["state"] == "unlinked"
    await grant(hass, linked_entry)
    data = dict(linked_entry.data)
    data.pop("portal")
    hass.config_entries.async_update_entry(linked_entry, data=data)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert remote_of(linked_entry).current is None
    result = await act(hass, linked_entry, kind="web_app")
    assert result["error"] == "window_closed"
    assert [p["state"] for p in outgoing.of_type("window")] == ["granted", "granted"]


async def test_action_refused_when_the_link_changed_unnoticed(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    """Even if the window was not closed yet, an installer no longer linked is refused."""
    await grant(hass, linked_entry)
    remote = remote_of(linked_entry)
    window = remote.current
    assert window is not None
    assert not remote.is_linked_to(window, None)
    from custom_components.somfy_pro.remote_window import LinkedInstaller

    assert not remote.is_linked_to(window, LinkedInstaller("8", "Other Co"))
    assert remote.is_linked_to(window, LinkedInstaller("7", "Renamed Acme"))
    assert remote.is_linked_to(
        dataclasses.replace(window, company_id=None), LinkedInstaller(None, COMPANY)
    )
