"""How remote-service windows end: expiry on HA's clock, reloads, stops, unlinking."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from .remote_fixtures import COMPANY, Outgoing
from .remote_service_common import NOW, act, grant, jump, remote_of, window_states


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
