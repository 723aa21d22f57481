"""Copies of one message sent to several addresses, or to two portal instances, make one ticket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import make_msgid

import pytest
from sqlalchemy import select

from companion_server.models import InboundMailClaim, Ticket
from companion_server.tickets import services
from companion_server.tickets.inbound import claims
from tests.companion.helpers import FakeClock
from tests.companion.inbound_common import PIN, Portal, count, mail, open_portal
from tests.companion.test_mail import SmtpServer, running_smtp, smtp
from tests.companion.tickets_common import make_customer, shop

__all__ = ["running_smtp", "smtp"]


@pytest.fixture
async def portals(
    database_url: str, running_smtp: SmtpServer, clock: FakeClock
) -> AsyncIterator[tuple[Portal, Portal]]:
    """Two portal instances sharing one database, each with its own SMTP endpoint."""
    first = await open_portal(database_url, running_smtp, clock)
    second = await open_portal(database_url, running_smtp, clock)
    try:
        s = await shop(first.core)
        await make_customer(first.core, "hana@example.com", s.box.installation)
        yield first, second
    finally:
        await first.server.close()
        await second.server.close()


async def test_copies_to_several_addresses_make_one_ticket(
    portals: tuple[Portal, Portal], clock: FakeClock
) -> None:
    portal = portals[0]
    message = mail(clock, "hana@example.com", f"Shutter stuck {PIN}")
    for to in ("help@acme.example", "ivan@acme.example", "boss@acme.example"):
        assert (await portal.send(message, to=to))[0] == 250
    (ticket,) = await _tickets(portal)
    async with portal.core.tx() as db:
        keys = list(await db.scalars(select(InboundMailClaim.ticket_id)))
    assert keys == [ticket.id, ticket.id]  # its Message-ID and its fingerprint
    # Without the Message-ID (a relay that rewrote it): same sender, PIN, subject, window.
    rewritten = mail(clock, "hana@example.com", f"Fwd: RE:  shutter   STUCK  {PIN} ")
    rewritten.replace_header("Message-ID", make_msgid(domain="relay.example"))
    assert (await portal.send(rewritten))[0] == 250
    assert len(await _tickets(portal)) == 1
    # Another subject, or the same one in a later window, is another request.
    assert (await portal.send(mail(clock, "hana@example.com", f"Awning {PIN}")))[0] == 250
    clock.advance(minutes=61)
    assert (await portal.send(mail(clock, "hana@example.com", f"Shutter stuck {PIN}")))[0] == 250
    assert len(await _tickets(portal)) == 3


async def test_copies_delivered_at_once_to_two_instances_make_one_ticket(
    portals: tuple[Portal, Portal], clock: FakeClock
) -> None:
    first, second = portals
    message = mail(clock, "hana@example.com", f"Shutter stuck {PIN}")
    results = await asyncio.gather(
        *(portal.send(message, to=f"staff{n}@acme.example") for n, portal in enumerate(portals * 3))
    )
    assert [code for code, _ in results] == [250] * 6
    assert len(await _tickets(first)) == 1
    # Copies whose Message-IDs differ meet on their fingerprint.
    copies = []
    for _ in range(4):
        copy = mail(clock, "hana@example.com", f"Awning torn {PIN}")
        copies.append(copy)
    results = await asyncio.gather(
        *(portal.send(copy) for portal, copy in zip(portals * 2, copies, strict=True))
    )
    assert [code for code, _ in results] == [250] * 4
    assert len(await _tickets(second)) == 2


async def test_a_claim_left_by_a_crash_is_taken_over_later(
    portals: tuple[Portal, Portal], clock: FakeClock
) -> None:
    portal = portals[0]
    message = mail(clock, "hana@example.com", f"Shutter stuck {PIN}")
    key = claims.key("message-id", str(message["Message-ID"]))
    async with portal.core.tx() as db:  # an instance that died while creating the ticket
        db.add(InboundMailClaim(key=key, ticket_id=None, claimed_at=clock.now))
    assert (await portal.send(message))[0] == 250
    assert await count(portal.core, Ticket) == 0  # still in progress elsewhere, maybe
    clock.advance(minutes=11)
    assert (await portal.send(message))[0] == 250
    assert len(await _tickets(portal)) == 1


async def test_a_failure_answers_451_and_keeps_no_claim(
    portals: tuple[Portal, Portal], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = portals[0]
    create = services.create_ticket

    async def broken(*args: object, **kwargs: object) -> Ticket:
        raise ConnectionError("database went away")

    monkeypatch.setattr(services, "create_ticket", broken)
    message = mail(clock, "hana@example.com", f"Shutter stuck {PIN}")
    assert (await portal.send(message))[0] == 451
    assert await count(portal.core, InboundMailClaim) == 0
    monkeypatch.setattr(services, "create_ticket", create)
    assert (await portal.send(message))[0] == 250  # the relay's next attempt
    assert len(await _tickets(portal)) == 1


async def _tickets(portal: Portal) -> list[Ticket]:
    async with portal.core.tx() as db:
        return list(await db.scalars(select(Ticket).order_by(Ticket.id)))


async def test_claims_are_forgotten_after_two_weeks(
    portals: tuple[Portal, Portal], clock: FakeClock
) -> None:
    portal = portals[0]
    async with portal.core.tx() as db:
        db.add(
            InboundMailClaim(
                key=claims.key("old"), ticket_id=None, claimed_at=clock.now - timedelta(days=15)
            )
        )
        db.add(InboundMailClaim(key=claims.key("recent"), ticket_id=None, claimed_at=clock.now))
    assert (await portal.send(mail(clock, "hana@example.com", f"Stuck {PIN}")))[0] == 250
    async with portal.core.tx() as db:
        kept = set(await db.scalars(select(InboundMailClaim.key)))
    assert claims.key("old") not in kept and claims.key("recent") in kept and len(kept) == 3
