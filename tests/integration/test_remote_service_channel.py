"""Remote-service frames through the portal channel: its frame handling, and the real portal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
import uuid

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from sqlalchemy import func, select

from companion_server.models import InterventionEntry, ReceivedFrame, RemoteWindow
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.installer_actions import request_issue_id
from custom_components.somfy_pro.intervention_summary import EVENT_INTERVENTION_ENDED
from custom_components.somfy_pro.portal_channel import PortalChannel
from custom_components.somfy_pro.portal_monitoring import device_payload
from tests.portal_app import Portal

from .common import AWNING, SHUTTER
from .portal_common import manager_of, wait_until
from .real_portal_common import real_portal
from .test_portal_real import _linked_and_granted, wait_for

__all__ = ["real_portal"]


def frame(frame_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A validated portal frame."""
    return {"v": 1, "id": str(uuid.uuid4()), "type": frame_type, "payload": payload}


def posted(manager: PortalChannel, frame_type: str) -> list[dict[str, Any]]:
    """Payloads of the acknowledged frames waiting in the outbox."""
    return [f["payload"] for f in manager.outbox if f["type"] == frame_type]


async def test_frames_of_remote_service(hass: HomeAssistant, linked_entry: MockConfigEntry) -> None:
    manager: PortalChannel = linked_entry.runtime_data.portal
    # The portal asks; Home Assistant raises the repair issue.
    await manager._async_on_frame(
        frame(
            "request_remote_service",
            {"request_id": "r-1", "installer": "Jo", "kinds": ["parameters"], "hours": 8},
        )
    )
    issue_id = request_issue_id(linked_entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    # An action before any window: refused, and the result is kept until acknowledged.
    await manager._async_on_frame(frame("action", {"action_id": "a-1", "kind": "web_app"}))
    results = posted(manager, "action_result")
    assert [(r["action_id"], r["ok"], r.get("error")) for r in results] == [
        ("a-1", False, "window_closed")
    ]
    # The homeowner grants: a window frame leaves through the outbox.
    await hass.services.async_call(
        DOMAIN, "grant_remote_service", {"kinds": ["parameters"]}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    window = posted(manager, "window")
    assert [(w["state"], w["kinds"]) for w in window] == [("granted", ["parameters"])]
    await manager._async_on_frame(
        frame(
            "action",
            {
                "action_id": "a-2",
                "kind": "parameters",
                "device_url": SHUTTER,
                "parameter": "my_position",
                "value": 35,
            },
        )
    )
    results = posted(manager, "action_result")
    assert (results[-1]["action_id"], results[-1]["ok"]) == ("a-2", True)
    # The installer ends: event, window closed.
    events: list[Event] = async_capture_events(hass, EVENT_INTERVENTION_ENDED)
    await manager._async_on_frame(frame("intervention_ended", {"comment": "Done", "actions": []}))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(events) == 1
    assert linked_entry.runtime_data.remote_service.current is None


async def test_malformed_request_answered_with_error(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    manager: PortalChannel = linked_entry.runtime_data.portal
    await manager._async_on_frame(frame("request_remote_service", {"kinds": ["x"]}))
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, request_issue_id(linked_entry.entry_id)) is None
    )
    assert not posted(manager, "action_result")


async def test_snapshot_says_what_is_editable(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    devices = linked_entry.runtime_data.coordinator.data.devices
    assert set(device_payload(devices[SHUTTER])["editable"]["parameters"]) == {
        "label",
        "my_position",
    }
    assert device_payload(devices[AWNING])["editable"]["read_only_reason"] == "rts_one_way"


async def test_window_expired_while_stopped_recorded_by_the_portal(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    real_portal: Portal,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = init_integration
    await _linked_and_granted(hass, entry, real_portal)

    async def portal_window(state: str, frames: int) -> bool:
        async with real_portal.core.tx() as db:
            window = await db.scalar(select(RemoteWindow).order_by(RemoteWindow.id.desc()))
            received = await db.scalar(select(func.count()).where(ReceivedFrame.type == "window"))
        return window is not None and window.state == state and received == frames

    await hass.services.async_call(
        DOMAIN,
        "grant_remote_service",
        {"config_entry_id": entry.entry_id, "hours": 1},
        blocking=True,
    )
    await wait_for(hass, lambda: portal_window("granted", 1), "the window on the portal")
    # Home Assistant is stopped past the window's end; it closes the window when it starts.
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(hours=2))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: portal_window("expired", 2), "the expiry on the portal")
    await wait_until(hass, lambda: not manager_of(entry).outbox, "the acknowledgement")
    async with real_portal.core.tx() as db:
        logged = list(await db.scalars(select(InterventionEntry.kind)))
    assert logged.count("window_expired") == 1
