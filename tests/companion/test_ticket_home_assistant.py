"""Tickets from and to Home Assistant: ``POST /api/v1/tickets``, ``tickets``, messages.

Real database (SQLite and PostgreSQL), the real app on a socket, Home Assistant's side
played by a client that speaks the channel.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from companion_server.core import Core
from companion_server.customers.services import contact_customer
from companion_server.hub import protocol
from companion_server.models import (
    CustomerMessage,
    PortalFrame,
    Role,
    Ticket,
    TicketComment,
)
from companion_server.tickets import services as tickets
from companion_server.tickets.home_assistant import MAX_TICKETS
from tests.companion.ha import Factory, new_ha
from tests.companion.helpers import FakeClock, make_user
from tests.companion.tickets_common import linked_box, make_customer, open_ticket, shop

__all__ = ["new_ha"]  # the fixture of the simulated Home Assistant

PIN = "1234-5678-9012"  # the pin of ``shop``'s box
DIAGNOSTICS = {"alerts": [{"device": f"io://{PIN}/kitchen", "alert": "battery_low"}]}


def _body(**changes: Any) -> dict[str, Any]:
    return {
        "description": "The kitchen shutter stops half-way.",
        "kind": "contact",
        "pin": PIN,
        "device": None,
        "diagnostics": None,
    } | changes


async def _create(server: TestServer, token: str, body: Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, str) else json.dumps(body)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            str(server.make_url("/api/v1/tickets")),
            data=data,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        ) as response,
    ):
        return response.status, await response.json()


async def _pending(core: Core, installation_id: int, kind: str = "tickets") -> list[Any]:
    async with core.tx() as db:
        rows = await db.scalars(
            select(PortalFrame).where(
                PortalFrame.installation_id == installation_id,
                PortalFrame.type == kind,
                PortalFrame.acked_at.is_(None),
            )
        )
        return [json.loads(row.payload) for row in rows]


async def test_home_assistant_opens_a_ticket_as_the_customer(
    core: Core, server: TestServer
) -> None:
    s = await shop(core)
    hana = await make_customer(core, "hana@example.com", s.box.installation)
    device = {"url": f"io://{PIN}/kitchen", "serial": "kitchen", "label": "Kitchen", "model": "X"}
    status, answer = await _create(
        server,
        s.box.token,
        _body(kind="replacement", device=device, diagnostics=DIAGNOSTICS),
    )
    assert status == 201 and answer["number"].startswith("T-")
    async with core.tx() as db:
        ticket = await db.scalar(select(Ticket).where(Ticket.number == answer["number"]))
        assert ticket is not None
        (comment,) = await db.scalars(select(TicketComment))
    assert answer["url"].endswith(f"/customer/tickets/{ticket.id}")
    assert (ticket.customer_id, ticket.created_by_id) == (hana.id, hana.id)
    assert ticket.created_by_role == Role.CUSTOMER.value and ticket.kind == "replacement"
    # The portal knows the kitchen shutter: its URL stays on the ticket, with its serial.
    assert (ticket.device_url, ticket.device_serial) == (device["url"], "kitchen")
    assert comment.author_id == hana.id and comment.public
    assert f"Box PIN: {PIN}" in comment.body and "battery_low" in comment.body
    # Its Home Assistant gets the new list, the homeowner's own comment is no answer.
    (payload,) = await _pending(core, s.box.installation.id)
    (listed,) = payload["tickets"]
    assert listed["number"] == ticket.number and listed["status"] == "new"
    assert listed["comment"] is None


async def test_a_product_the_portal_does_not_know_keeps_its_serial(
    core: Core, server: TestServer
) -> None:
    s = await shop(core)
    await make_customer(core, "hana@example.com", s.box.installation)
    device = {"url": f"io://{PIN}/garage", "serial": "garage", "label": "Garage", "model": ""}
    status, answer = await _create(server, s.box.token, _body(device=device))
    assert status == 201
    async with core.tx() as db:
        ticket = await db.scalar(select(Ticket).where(Ticket.number == answer["number"]))
        (comment,) = await db.scalars(select(TicketComment))
    assert ticket is not None and ticket.device_url is None and ticket.device_serial == "garage"
    assert f"Device URL: io://{PIN}/garage" in comment.body
    assert "Diagnostics" not in comment.body  # the homeowner did not tick it


async def test_refusals_change_nothing(core: Core, server: TestServer) -> None:
    s = await shop(core)
    # No customer account yet: Home Assistant points the homeowner to the invitation.
    assert await _create(server, s.box.token, _body()) == (409, {"error": "no_customer"})
    await make_customer(core, "hana@example.com", s.box.installation)
    stranger = "x" * 43
    assert (await _create(server, stranger, _body()))[0] == 401
    assert (await _create(server, "", _body()))[0] == 401
    # Another box's PIN: a token opens tickets only on its own box.
    other_pin = _body(pin="9999-8888-7777")
    assert await _create(server, s.box.token, other_pin) == (409, {"error": "wrong_box"})
    assert await _create(server, s.other_box.token, _body()) == (409, {"error": "wrong_box"})
    bad = [
        "not json",
        [],
        _body(description=5),
        _body(pin=None),
        _body(device="kitchen"),
        _body(device={"url": "u" * 301}),
        _body(device={"label": "bad\x00label"}),
        _body(diagnostics=["x"]),
        _body(diagnostics={"x": "y" * 17000}),
    ]
    for body in bad:
        assert await _create(server, s.box.token, body) == (400, {"error": "invalid_request"})
    for body, field in [
        (_body(description="   "), "description"),
        (_body(description="d" * 4001), "description"),
        (_body(kind="complaint"), "kind"),
        (_body(kind="replacement"), "device_serial"),
    ]:
        status, answer = await _create(server, s.box.token, body)
        assert (status, answer["error"]) == (400, "invalid_ticket") and field in answer["fields"]
    async with core.tx() as db:
        assert list(await db.scalars(select(Ticket))) == []
    assert await _pending(core, s.box.installation.id) == []


async def test_a_loop_in_home_assistant_is_limited(core: Core, server: TestServer) -> None:
    s = await shop(core)
    await make_customer(core, "hana@example.com", s.box.installation)
    answers = [(await _create(server, s.box.token, _body()))[0] for _ in range(11)]
    assert answers == [201] * 10 + [429]


async def test_every_change_sends_the_whole_list_once(core: Core, clock: FakeClock) -> None:
    s = await shop(core)
    hana = await make_customer(core, "hana@example.com", s.box.installation)
    rival = await make_customer(core, "rival@example.com", s.other_box.installation)
    first = await open_ticket(core, hana, s.box.installation, "First")
    await open_ticket(core, rival, s.other_box.installation, "Another company's")
    clock.advance(seconds=60)
    await tickets.assign_ticket(core, s.admin.id, first, s.installer.id)
    await tickets.add_comment(core, s.installer.id, first, body="Internal note", public=False)
    clock.advance(seconds=60)
    await tickets.add_comment(core, s.installer.id, first, body="I come on Monday.", public=True)
    await tickets.add_comment(core, hana.id, first, body="Thanks!", public=True)
    clock.advance(seconds=60)
    await tickets.change_status(core, s.installer.id, first, "in_progress")
    # One list waits, the newest: each carries the whole state.
    (payload,) = await _pending(core, s.box.installation.id)
    (listed,) = payload["tickets"]  # never another company's ticket
    assert listed["status"] == "in_progress" and listed["assignee"] == s.installer.name
    assert listed["comment"]["text"] == "I come on Monday."  # not internal, not the customer's
    assert listed["comment"]["author"] == s.installer.name
    # A closed ticket stays in the list 30 days, so that Home Assistant sees it close.
    await tickets.change_status(core, s.installer.id, first, "closed")
    (payload,) = await _pending(core, s.box.installation.id)
    assert payload["tickets"][0]["status"] == "closed"
    clock.advance(days=31)
    await open_ticket(core, hana, s.box.installation, "Second")
    (payload,) = await _pending(core, s.box.installation.id)
    assert [t["description"] for t in payload["tickets"]] == ["Second"]


async def test_the_list_fits_one_frame(core: Core) -> None:
    s = await shop(core)
    hana = await make_customer(core, "hana@example.com", s.box.installation)
    for _ in range(MAX_TICKETS + 2):
        await open_ticket(core, hana, s.box.installation, "€" * 4000)
    (payload,) = await _pending(core, s.box.installation.id)
    # The newest 50 at most, and fewer when they would not fit one frame: the rest omitted.
    assert len(payload["tickets"]) + payload["omitted"] == MAX_TICKETS
    assert len(protocol.encode("tickets", payload).encode()) <= protocol.MAX_FRAME_BYTES
    assert all(len(t["description"]) == 200 for t in payload["tickets"])


async def test_hello_brings_the_list_and_the_messages_not_carried(
    core: Core, server: TestServer, new_ha: Factory
) -> None:
    s = await shop(core)
    lone = await linked_box(core, s.company, "No customer", pin="5555-5555-5555")
    hana = await make_customer(core, "hana@example.com", s.box.installation)
    await open_ticket(core, hana, s.box.installation, "Stuck shutter")
    # A message written while the box was not linked yet is carried on the next hello.
    async with core.tx() as db:
        db.add(
            CustomerMessage(
                customer_id=hana.id,
                company_id=s.company.id,
                sender_id=s.admin.id,
                sender_name="Boss",
                body="Your warranty ends soon.",
                created_at=core.now(),
            )
        )
        for frame in await db.scalars(select(PortalFrame)):
            await db.delete(frame)
    ha = await new_ha()
    ha.token = s.box.token
    await ha.connect()
    await ha.hello(pin=PIN)
    backlog = {f["type"]: f["payload"] for f in await ha.backlog()}
    assert [t["description"] for t in backlog["tickets"]["tickets"]] == ["Stuck shutter"]
    assert backlog["customer_message"]["body"] == "Your warranty ends soon."
    async with core.tx() as db:
        message = await db.scalar(select(CustomerMessage))
    assert message is not None and message.delivered_at is not None
    # A box with neither customer nor ticket gets no list.
    other = await new_ha()
    other.token = lone.token
    await other.connect()
    await other.hello(pin="5555-5555-5555")
    assert [f["type"] for f in await other.backlog()] == []


async def test_a_message_goes_to_every_linked_box_of_the_company(core: Core) -> None:
    s = await shop(core)
    cottage = await linked_box(core, s.company, "Cottage", pin="2222-2222-2222")
    hana = await make_customer(
        core, "hana@example.com", s.box.installation, cottage.installation, s.other_box.installation
    )
    other_admin = await make_user(core, s.company, "second@acme.example", role=Role.ADMIN)
    await contact_customer(core, other_admin.id, hana.id, "Service visit Monday.")
    for box in (s.box, cottage):
        (payload,) = await _pending(core, box.installation.id, "customer_message")
        assert payload["body"] == "Service visit Monday." and payload["message_id"] >= 1
    # Not to the box another company looks after.
    assert await _pending(core, s.other_box.installation.id, "customer_message") == []
