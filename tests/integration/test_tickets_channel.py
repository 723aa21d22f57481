"""The ticket frames' edge cases, with a scripted portal: order, restarts, unlink, bad frames."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.somfy_pro.tickets import EVENT_TICKET

from .common import ticket_items
from .portal_channel_common import linked, peer, send_acked
from .portal_common import manager_of, wait_until
from .portal_peer import FakePortal, frame

__all__ = ["linked", "peer"]

TICKET = {
    "number": "T-000007",
    "kind": "contact",
    "status": "new",
    "description": "The garage door\nopens by itself at night, every night since the storm.",
    "assignee": None,
    "comment": None,
    "updated_at": "2026-11-28T08:00:00+00:00",
    "url": "https://portal.example/customer/tickets/7",
}


def tickets(at: str, *items: dict[str, Any]) -> dict[str, Any]:
    return frame("tickets", {"at": at, "tickets": list(items)})


async def test_newest_list_wins_and_survives_a_restart(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    events = async_capture_events(hass, EVENT_TICKET)
    await send_acked(hass, peer, tickets("2026-11-28T08:00:00+00:00", TICKET))
    assert events == []  # a ticket Home Assistant did not know: no news
    (item,) = await ticket_items(hass)
    # One line, cut to fit a list: the number and the start of the description.
    start = "The garage door opens by itself at night, every night since…"
    assert item["summary"] == f"T-000007: {start}"
    assert item["description"].splitlines() == ["Status: New", TICKET["url"]]
    answered = {
        **TICKET,
        "status": "waiting",
        "assignee": "Ivan",
        "comment": {"id": 9, "author": "Ivan", "text": "Which remote?", "at": TICKET["updated_at"]},
    }
    await send_acked(hass, peer, tickets("2026-11-28T09:00:00+00:00", answered))
    assert [e.data["change"] for e in events] == ["answer", "status"]
    assert events[1].data["status"] == "waiting"
    # An older list resent late changes nothing.
    await send_acked(hass, peer, tickets("2026-11-28T08:30:00+00:00", TICKET))
    assert len(events) == 2
    (item,) = await ticket_items(hass)
    assert item["description"].splitlines()[:3] == [
        "Status: Waiting for you",
        "Handled by Ivan",
        "Last answer from Ivan: Which remote?",
    ]
    # Kept across a restart of the entry.
    assert await hass.config_entries.async_reload(linked.entry_id)
    await hass.async_block_till_done()
    assert [i["uid"] for i in await ticket_items(hass)] == ["T-000007"]
    # The same answer in the next list is no news.
    await wait_until(hass, lambda: manager_of(linked).connected, "the channel again")
    await send_acked(hass, peer, tickets("2026-11-28T10:00:00+00:00", answered))
    assert len(events) == 2


async def test_unlinking_forgets_the_tickets(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    await send_acked(hass, peer, tickets("2026-11-28T08:00:00+00:00", TICKET))
    assert len(await ticket_items(hass)) == 1
    await manager_of(linked).async_unlink()
    await hass.async_block_till_done()
    assert await ticket_items(hass) == []


async def test_bad_ticket_frames_are_refused_and_change_nothing(
    hass: HomeAssistant, linked: MockConfigEntry, peer: FakePortal
) -> None:
    await peer.send(tickets("2026-11-28T08:00:00+00:00", {**TICKET, "status": "lost"}))
    empty = {"message_id": 1, "sender": "Ada", "body": "", "at": TICKET["updated_at"]}
    await peer.send(frame("customer_message", empty))
    await wait_until(hass, lambda: len(peer.of_type("error")) == 2, "two error frames")
    assert {e["payload"]["code"] for e in peer.of_type("error")} == {"invalid_payload"}
    assert await ticket_items(hass) == []
