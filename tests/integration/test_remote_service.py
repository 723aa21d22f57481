"""Remote-service windows: grant, its refusals, revoke, and the request's repair issue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.remote_window import KINDS

from .common import PIN, SHUTTER, device_of
from .remote_fixtures import COMPANY, Outgoing, installer_actions_of
from .remote_service_common import NOW, act, grant, remote_of, window_states


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
