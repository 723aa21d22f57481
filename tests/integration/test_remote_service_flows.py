"""Remote service in Home Assistant: request repair flow, remotes, end of intervention."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.action_checks import ActionRefused, parse_remote_code
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.installer_actions import request_issue_id
from custom_components.somfy_pro.intervention_summary import EVENT_INTERVENTION_ENDED
from custom_components.somfy_pro.parameters import describe_editable
from custom_components.somfy_pro.remote_service import RemoteService

from .common import AWNING, KITCHEN_SHUTTER, PIN, REMOTE, SHUTTER, SMOKE, tick
from .remote_fixtures import COMPANY, Outgoing, installer_actions_of, wait_for

CONTROLLERS = "core:PairedOneWayControllersState"


def remote_of(entry: MockConfigEntry) -> RemoteService:
    """The remote-service manager of a loaded entry."""
    remote: RemoteService = entry.runtime_data.remote_service
    return remote


async def grant(hass: HomeAssistant, **data: Any) -> None:
    """Open a window on the only box."""
    await hass.services.async_call(DOMAIN, "grant_remote_service", data, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)


async def act(hass: HomeAssistant, entry: MockConfigEntry, **payload: Any) -> dict[str, Any]:
    """Hand an ``action`` frame's payload to the integration."""
    payload.setdefault("action_id", "a-1")
    result = await installer_actions_of(entry).async_handle_action(payload)
    await hass.async_block_till_done(wait_background_tasks=True)
    return result


# -- the request, approved or declined in the repair flow ------------------------------------


async def _open_request_flow(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    installer_actions_of(entry).async_handle_request_remote_service(
        {
            "request_id": "r-1",
            "installer": "Jo Fixit",
            "kinds": ["reboot", "parameters"],
            "hours": 12,
        },
    )
    issue = ir.async_get(hass).async_get_issue(DOMAIN, request_issue_id(entry.entry_id))
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_key == "remote_service_request"
    assert issue.translation_placeholders == {
        "title": entry.title,
        "company": COMPANY,
        "installer": "Jo Fixit",
        "hours": "8",
        "kinds": "parameters, reboot",
    }
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert result["type"] == "menu"
    assert result["menu_options"] == ["approve", "decline"]
    return dict(result)


async def test_request_approved_in_the_repair_flow(
    hass: HomeAssistant, linked_entry: MockConfigEntry, outgoing: Outgoing
) -> None:
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await _open_request_flow(hass, linked_entry)
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "approve"})
    assert result["type"] == "form"
    assert result["step_id"] == "approve"
    # No kind chosen: asked again.
    result = await manager.async_configure(result["flow_id"], {"hours": 2, "kinds": []})
    assert result["type"] == "form"
    assert result["errors"] == {"kinds": "no_kind"}
    result = await manager.async_configure(result["flow_id"], {"hours": 2, "kinds": ["reboot"]})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done(wait_background_tasks=True)
    window = remote_of(linked_entry).current
    assert window is not None
    assert window.kinds == ("reboot",)
    assert window.installer == "Jo Fixit"
    assert window.request_id == "r-1"
    assert (window.until - window.granted_at).total_seconds() == 2 * 3600
    frames = outgoing.of_type("window")
    assert [(f["request_id"], f["state"], f["kinds"]) for f in frames] == [
        ("r-1", "granted", ["reboot"])
    ]
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, request_issue_id(linked_entry.entry_id)) is None
    )


async def test_request_declined_in_the_repair_flow(
    hass: HomeAssistant, linked_entry: MockConfigEntry, outgoing: Outgoing
) -> None:
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await _open_request_flow(hass, linked_entry)
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "decline"})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert remote_of(linked_entry).current is None
    assert outgoing.of_type("window") == [
        {"request_id": "r-1", "state": "declined", "until": None, "kinds": []}
    ]
    record = remote_of(linked_entry).audit.records[-1]
    assert (record["type"], record["state"], record["request_id"]) == ("window", "declined", "r-1")


async def test_request_flow_aborts_when_the_box_is_gone(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await _open_request_flow(hass, linked_entry)
    await hass.config_entries.async_unload(linked_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await manager.async_configure(result["flow_id"], {"next_step_id": "approve"})
    assert result["type"] == "abort"
    assert result["reason"] == "request_gone"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"request_id": 5},
        {"request_id": "r", "kinds": ["teleport"]},
        {"request_id": "r", "kinds": []},
        {"request_id": "r", "hours": "eight"},
        {"request_id": "r", "hours": 0},
    ],
)
async def test_malformed_requests(
    hass: HomeAssistant, linked_entry: MockConfigEntry, payload: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        installer_actions_of(linked_entry).async_handle_request_remote_service(payload)


# -- adding a remote control ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "address"),
    [
        ("A1B2C3", "A1B2C3"),
        ("a1b2c3d4", "A1B2C3D4"),
        ("  io:a1b2c3\n", "A1B2C3"),
        ("SOMFY;ADDR=A1B2C3;TYPE=SITUO", "A1B2C3"),
        # A QWERTY reader on an AZERTY PC types 1, 2, 3 as &, é, " and A as Q.
        ('Q&Bé"C', "A1B23C"),
        ("&é\"'(-", "123456"),
    ],
)
def test_parse_remote_code(code: str, address: str) -> None:
    assert parse_remote_code(code) == address


@pytest.mark.parametrize("code", ["", "hello", "A1B2", "A1B2C3;D4E5F6", "A1B2C3D4E5"])
def test_unreadable_codes(code: str) -> None:
    with pytest.raises(ActionRefused) as err:
        parse_remote_code(code)
    assert err.value.code == "unreadable_code"


async def test_pair_a_scanned_remote_to_two_devices(
    hass: HomeAssistant, linked_entry: MockConfigEntry, simulator: BoxSimulator
) -> None:
    await grant(hass, kinds=["pair_remote"])
    result = await act(
        hass,
        linked_entry,
        kind="pair_remote",
        source="installer",
        code="IO:A1B2C3",
        devices=[SHUTTER, KITCHEN_SHUTTER],
    )
    assert result["ok"] is True
    remote_url = f"io://{PIN}/A1B2C3"
    box = simulator.box

    def paired() -> bool:
        return all(
            remote_url in (box.devices[url].state(CONTROLLERS) or [])  # type: ignore[operator]
            for url in (SHUTTER, KITCHEN_SHUTTER)
        )

    await wait_for(paired, "the remote paired to both shutters")
    record = remote_of(linked_entry).audit.records[-1]
    assert record["remote_address"] == "A1B2C3"
    assert record["device_labels"] == ["Living room shutter", "Kitchen shutter"]
    assert "code" not in record


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"source": "installer", "code": "nonsense", "devices": [SHUTTER]}, "unreadable_code"),
        ({"source": "installer", "devices": [SHUTTER]}, "unreadable_code"),
        ({"source": "installer", "code": "A1B2C3", "devices": [SMOKE]}, "not_pairable"),
        ({"source": "installer", "code": "A1B2C3", "devices": [AWNING]}, "not_pairable"),
        ({"source": "installer", "code": "A1B2C3", "devices": []}, "invalid_action"),
        ({"source": "installer", "code": "A1B2C3"}, "invalid_action"),
        ({"source": "neighbour", "code": "A1B2C3", "devices": [SHUTTER]}, "invalid_action"),
        ({"source": "customer", "remote_url": SHUTTER, "devices": [SHUTTER]}, "not_pairable"),
        (
            {"source": "installer", "code": "A1B2C3", "devices": ["io://2222-3333-4444/1"]},
            "wrong_box",
        ),
    ],
)
async def test_pair_remote_refusals(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    simulator: BoxSimulator,
    payload: dict[str, Any],
    error: str,
) -> None:
    await grant(hass, kinds=["pair_remote"])
    result = await act(hass, linked_entry, kind="pair_remote", **payload)
    assert result["error"] == error
    assert simulator.box.devices[SHUTTER].state(CONTROLLERS) is None


async def test_pair_a_remote_at_the_customers(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    simulator: BoxSimulator,
    freezer: Any,
) -> None:
    """Pairing mode on the box, PROG pressed on the remote, then paired to a device."""
    freezer.move_to("2026-11-23T10:00:00+00:00")
    await grant(hass, kinds=["pair_remote"])
    result = await act(hass, linked_entry, kind="pair_remote", source="customer")
    assert result["ok"] is True
    box = simulator.box
    await wait_for(lambda: box.pairing_until is not None, "pairing mode")
    remote = box.press_remote("D4E5F6", "Hall remote")
    await tick(hass, freezer)
    assert remote.url in linked_entry.runtime_data.coordinator.data.devices
    result = await act(
        hass,
        linked_entry,
        action_id="a-2",
        kind="pair_remote",
        source="customer",
        remote_url=remote.url,
        devices=[SHUTTER],
    )
    assert result["ok"] is True
    await wait_for(lambda: remote.url in (box.devices[SHUTTER].state(CONTROLLERS) or []), "paired")


def test_describe_editable(hass: HomeAssistant, linked_entry: MockConfigEntry) -> None:
    devices = linked_entry.runtime_data.coordinator.data.devices
    shutter = describe_editable(devices[SHUTTER])
    assert shutter == {
        "parameters": {
            "label": {"type": "string", "max_length": 64, "value": "Living room shutter"},
            "my_position": {"type": "int", "min": 0, "max": 100, "value": 50},
        },
        "read_only_reason": None,
    }
    assert describe_editable(devices[REMOTE])["parameters"].keys() == {"label"}
    assert describe_editable(devices[AWNING]) == {
        "parameters": {},
        "read_only_reason": "rts_one_way",
    }


# -- the end of the intervention --------------------------------------------------------------


async def test_intervention_ended(
    hass: HomeAssistant, linked_entry: MockConfigEntry, simulator: BoxSimulator
) -> None:
    events: list[Event] = async_capture_events(hass, EVENT_INTERVENTION_ENDED)
    await grant(hass)
    await act(
        hass, linked_entry, kind="parameters", device_url=SHUTTER, parameter="my_position", value=25
    )
    await act(hass, linked_entry, action_id="a-2", kind="web_app")
    await act(hass, linked_entry, action_id="a-3", kind="parameters", device_url=AWNING)
    await installer_actions_of(linked_entry).async_handle_intervention_ended(
        {"comment": "Shutter 'my' position set to 25 %.", "actions": ["my position", "web app"]},
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert remote_of(linked_entry).current is None
    assert len(events) == 1
    data = events[0].data
    assert data["config_entry_id"] == linked_entry.entry_id
    assert data["company"] == COMPANY
    assert data["comment"] == "Shutter 'my' position set to 25 %."
    assert len(data["actions"]) == 2  # the refused one is not listed
    assert data["actions"][0].endswith('Living room shutter: "My" position (%) set to 25')
    assert data["actions"][1].endswith("Your web app was opened")
    notifications = hass.states.async_all("persistent_notification")
    texts = [state.attributes.get("message", "") for state in notifications]
    if not texts:  # persistent notifications are not states on current Home Assistant
        from homeassistant.components.persistent_notification import (
            _async_get_or_create_notifications,
        )

        texts = [n["message"] for n in _async_get_or_create_notifications(hass).values()]
    assert any(
        "Shutter 'my' position set to 25 %." in text and "- " + data["actions"][1] in text
        for text in texts
    )
    records = remote_of(linked_entry).audit.records
    assert [r.get("state") for r in records if r["type"] == "window"] == ["granted", "ended"]
    assert records[-1]["type"] == "intervention_ended"
    assert records[-1]["actions"] == [2, 3]
    assert remote_of(linked_entry).audit.verify().ok
    # Nothing more is accepted.
    result = await act(hass, linked_entry, action_id="a-4", kind="web_app")
    assert result["error"] == "window_closed"


async def test_intervention_summary_in_the_homeowners_language(
    hass: HomeAssistant, linked_entry: MockConfigEntry, simulator: BoxSimulator
) -> None:
    hass.config.language = "fr"
    events: list[Event] = async_capture_events(hass, EVENT_INTERVENTION_ENDED)
    await grant(hass)
    await act(
        hass, linked_entry, kind="parameters", device_url=SHUTTER, parameter="label", value="Salon"
    )
    await act(hass, linked_entry, action_id="a-2", kind="pair_remote", source="customer")
    await act(hass, linked_entry, action_id="a-3", kind="web_app")
    await installer_actions_of(linked_entry).async_handle_intervention_ended(
        {"comment": "Fini.", "actions": []}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [line.split(" ", 1)[1] for line in events[0].data["actions"]] == [
        "Living room shutter : nom réglé à Salon",
        "La box a été mise en mode appairage pour une télécommande",
        "Votre application web a été ouverte",
    ]
