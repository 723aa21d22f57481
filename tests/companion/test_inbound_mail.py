"""Tickets by e-mail through a real SMTP session: accepted, threaded, refused, ignored, rejected."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from companion_server.mail import worker
from companion_server.models import (
    InboundMailClaim,
    InboundMailReply,
    OutboxMessage,
    Ticket,
    TicketComment,
)
from tests.companion.helpers import FakeClock, make_user
from tests.companion.inbound_common import PIN, DkimDomain, Portal, count, mail, open_portal
from tests.companion.test_mail import SmtpServer, running_smtp, smtp
from tests.companion.tickets_common import Shop, make_customer, make_support, shop

__all__ = ["running_smtp", "smtp"]


@pytest.fixture
async def portal(
    database_url: str, running_smtp: SmtpServer, clock: FakeClock
) -> AsyncIterator[Portal]:
    started = await open_portal(database_url, running_smtp, clock)
    try:
        yield started
    finally:
        await started.server.close()


async def _tickets(portal: Portal) -> list[Ticket]:
    async with portal.core.tx() as db:
        return list(await db.scalars(select(Ticket).order_by(Ticket.id)))


async def _replies(portal: Portal, relay: SmtpServer) -> list[tuple[str, str, str]]:
    """The refusal replies the outbound relay received: (to, subject, body)."""
    await worker.deliver_due(portal.core)
    return [
        (str(m["To"]), str(m["Subject"]), m.get_body().get_content())  # type: ignore[union-attr]
        for m in relay.inbox.messages
    ]


async def test_a_customer_naming_the_pin_opens_a_ticket(
    portal: Portal, running_smtp: SmtpServer, clock: FakeClock
) -> None:
    s: Shop = await shop(portal.core)
    hana = await make_customer(portal.core, "hana@example.com", s.box.installation, language="fr")
    message = mail(clock, "Hana@Example.com", f"Shutter stuck (box {PIN})", "It\tstopped.\n")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="plan.pdf")
    assert (await portal.send(message))[0] == 250
    (ticket,) = await _tickets(portal)
    assert ticket.number == f"T-{ticket.id:06d}" and ticket.kind == "contact"
    assert ticket.customer_id == hana.id and ticket.created_by_role == "customer"
    assert ticket.installation_id == s.box.installation.id and ticket.company_id == s.company.id
    assert ticket.description.startswith(f"Shutter stuck (box {PIN})")
    assert "It    stopped." in ticket.description  # a tab is not a control character to keep
    assert "Pièces jointes non conservées (demandez-les au client) : plan.pdf" in (
        ticket.description
    )
    assert await _replies(portal, running_smtp) == []
    # The PIN in the text, written without dashes, names the box too.
    other = mail(clock, hana.email, "Another question", "Box 1234 5678 9012: the awning?")
    assert (await portal.send(other))[0] == 250
    assert len(await _tickets(portal)) == 2


async def test_a_reply_quoting_the_number_threads_onto_the_ticket(
    portal: Portal, running_smtp: SmtpServer, clock: FakeClock
) -> None:
    s = await shop(portal.core)
    hana = await make_customer(portal.core, "hana@example.com", s.box.installation)
    rival = await make_customer(
        portal.core, "rival@example.com", s.other_box.installation, language="sk"
    )
    assert (await portal.send(mail(clock, hana.email, f"Stuck {PIN}")))[0] == 250
    (ticket,) = await _tickets(portal)
    clock.advance(minutes=5)
    reply = mail(
        clock,
        hana.email,
        f"RE: Ticket {ticket.number}: In progress",
        "It moves again after the reset.\n\n> The status of your ticket is now: In progress.",
    )
    assert (await portal.send(reply))[0] == 250
    assert (await portal.send(reply))[0] == 250  # the same reply again: one comment
    # A customer who may not see the ticket does not write on it (and names no PIN).
    intruder = mail(clock, rival.email, f"Re: {ticket.number}", "Close it.")
    assert (await portal.send(intruder))[0] == 250
    async with portal.core.tx() as db:
        comments = list(await db.scalars(select(TicketComment)))
    assert [(c.author_id, c.body, c.public) for c in comments] == [
        (hana.id, "It moves again after the reset.", True)
    ]
    assert len(await _tickets(portal)) == 1
    ((to, subject, body),) = await _replies(portal, running_smtp)
    assert to == rival.email and subject == "Vaša správa podpore nebola prijatá"
    assert "neuvádza PIN" in body


async def test_refusals_are_explained_once_an_hour(
    portal: Portal, running_smtp: SmtpServer, clock: FakeClock
) -> None:
    s = await shop(portal.core)
    await make_customer(portal.core, "hana@example.com", s.box.installation, language="sk")
    installer = await make_user(portal.core, s.company, "ivo@acme.example", language="es")
    support = await make_support(portal.core)
    senders = ["stranger@example.org", installer.email, support.email, "hana@example.com"]
    for sender in senders:
        assert (
            await portal.send(mail(clock, sender, f"Help {PIN}" * (sender != "hana@example.com")))
        )[0] == 250
    assert await count(portal.core, Ticket) == 0
    replies = {to: (subject, body) for to, subject, body in await _replies(portal, running_smtp)}
    assert set(replies) == set(senders)
    subject, body = replies["stranger@example.org"]
    assert subject == "Your message to the support was not accepted"
    assert "only from the address of a customer account" in body
    assert "Help 1234-5678-9012" in body
    assert replies[installer.email][0] == "Su mensaje al soporte no ha sido aceptado"
    assert "cuenta del personal" in replies[installer.email][1]
    assert "staff account" in replies[support.email][1]
    assert "neuvádza PIN" in replies["hana@example.com"][1]
    # Within the hour, nobody is answered twice, whichever reason; after it, again.
    clock.advance(minutes=59)
    for sender in senders:
        assert (await portal.send(mail(clock, sender, "Still nothing?")))[0] == 250
    assert len(await _replies(portal, running_smtp)) == len(senders)
    clock.advance(minutes=2)
    assert (await portal.send(mail(clock, "stranger@example.org", "Hello?")))[0] == 250
    replies_now = await _replies(portal, running_smtp)
    assert [to for to, _, _ in replies_now].count("stranger@example.org") == 2
    # Only the stranger's time is still worth keeping; the older ones are dropped.
    assert await count(portal.core, InboundMailReply) == 1


@pytest.mark.parametrize(
    ("headers", "envelope"),
    [
        ({"Auto_Submitted": "auto-replied"}, None),
        ({"Auto_Submitted": "auto-generated; type=vacation"}, None),
        ({"Precedence": "bulk"}, None),
        ({"Precedence": "junk"}, None),
        ({"List_Id": "<owners.example.com>"}, None),
        ({"List_Unsubscribe": "<mailto:leave@example.com>"}, None),
        ({}, ""),  # the null sender of a bounce
    ],
)
async def test_automatic_mail_is_neither_taken_in_nor_answered(
    portal: Portal,
    running_smtp: SmtpServer,
    clock: FakeClock,
    headers: dict[str, str],
    envelope: str | None,
) -> None:
    s = await shop(portal.core)
    await make_customer(portal.core, "hana@example.com", s.box.installation)
    for sender in ("hana@example.com", "stranger@example.org"):
        message = mail(clock, sender, f"Out of office {PIN}", **headers)
        assert (await portal.send(message, sender=envelope))[0] == 250
    assert await count(portal.core, Ticket) == 0
    assert await count(portal.core, OutboxMessage) == 0
    assert await count(portal.core, InboundMailReply) == 0


async def test_auto_submitted_no_is_a_person_writing(portal: Portal, clock: FakeClock) -> None:
    s = await shop(portal.core)
    await make_customer(portal.core, "hana@example.com", s.box.installation)
    message = mail(clock, "hana@example.com", f"Stuck {PIN}", Auto_Submitted="no")
    assert (await portal.send(message))[0] == 250
    assert await count(portal.core, Ticket) == 1


async def test_a_failed_dkim_check_makes_the_sender_unknown(
    portal: Portal, running_smtp: SmtpServer, clock: FakeClock
) -> None:
    s = await shop(portal.core)
    await make_customer(portal.core, "hana@example.com", s.box.installation, language="fr")
    domain = DkimDomain("example.com")
    signed = domain.sign(mail(clock, "hana@example.com", f"Stuck {PIN}"))
    forged = signed.replace(b"no longer moves", b"moves no longer")  # changed on the way
    assert b"dkim=fail" in domain.relay(forged)
    assert (await portal.send(domain.relay(forged), sender="hana@example.com"))[0] == 250
    assert await count(portal.core, Ticket) == 0
    ((to, subject, body),) = await _replies(portal, running_smtp)
    # Unknown: the account's language is not trusted, the reply is in English.
    assert to == "hana@example.com" and subject == "Your message to the support was not accepted"
    assert "sent through that address's own mail server" in body
    relayed = domain.relay(signed)
    assert b"dkim=pass" in relayed
    assert (await portal.send(relayed, sender="hana@example.com"))[0] == 250
    assert await count(portal.core, Ticket) == 1
    spf_failed = mail(clock, "hana@example.com", f"Other {PIN}")
    spf_failed["Authentication-Results"] = "relay.acme.example; spf=fail smtp.mailfrom=example.com"
    assert (await portal.send(spf_failed))[0] == 250
    assert await count(portal.core, Ticket) == 1


async def test_oversized_and_malformed_messages_get_an_smtp_error(
    database_url: str, running_smtp: SmtpServer, clock: FakeClock
) -> None:
    portal = await open_portal(database_url, running_smtp, clock, inbound_mail_max_bytes=4096)
    try:
        s = await shop(portal.core)
        await make_customer(portal.core, "hana@example.com", s.box.installation)
        big = mail(clock, "hana@example.com", f"Photos {PIN}", "x" * 8000)
        code, _text = await portal.send(big)
        assert code == 552
        no_sender = b"Subject: Stuck " + PIN.encode() + b"\r\n\r\nHelp\r\n"
        two_senders = (
            b"From: a@example.com, hana@example.com\r\nSubject: " + PIN.encode() + b"\r\n\r\nx\r\n"
        )
        bad_charset = (
            b"From: hana@example.com\r\nSubject: " + PIN.encode() + b"\r\n"
            b"Content-Type: text/plain; charset=no-such-charset\r\n\r\nx\r\n"
        )
        for raw in (no_sender, two_senders, bad_charset):
            code, text = await portal.send(raw, sender="hana@example.com")
            assert code == 550, text
        for model in (Ticket, OutboxMessage, InboundMailClaim, InboundMailReply):
            assert await count(portal.core, model) == 0
    finally:
        await portal.server.close()
    # The endpoint stops with the app.
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", portal.port)
