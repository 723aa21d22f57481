"""What a received message becomes: a ticket, a comment on one, a duplicate, or a refusal.

Only a customer account (a homeowner owning the box) opens tickets by e-mail, as in the
portal (D8): an installer's, an administrator's or the manufacturer's support's address is
refused, since their tickets and answers belong in the portal. The message must name the
PIN of one of the customer's boxes. A failed DKIM or SPF check reported by the relay makes
the sender unknown. Refusals are answered, in the account's language (English for an
unknown sender), at most once an hour per address and never to automatic mail (RFC 3834).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from companion_server.i18n import DEFAULT_LANGUAGE, translator
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    CustomerInstallation,
    InboundMailReply,
    Installation,
    Ticket,
    TicketKind,
    User,
)
from companion_server.tickets import services
from companion_server.tickets.access import visible_to
from companion_server.tickets.inbound import claims

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.tickets.inbound.message import Incoming

# One refusal reply per address in this time, whichever portal instance received the mail.
REPLY_INTERVAL = timedelta(hours=1)
# A Date header further than this from the receipt is not trusted for the copies' window.
DATE_SKEW = timedelta(days=1)


class Outcome(StrEnum):
    """What became of a message (the SMTP answer is the same: it was received)."""

    TICKET = "ticket"
    COMMENT = "comment"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
    IGNORED = "ignored"  # automatic mail: neither taken in nor answered


class Refusal(StrEnum):
    """Why a message was refused (the reply explains it)."""

    UNKNOWN_SENDER = "unknown_sender"
    NOT_CUSTOMER = "not_customer"
    NO_PIN = "no_pin"


async def take_in(core: Core, incoming: Incoming) -> Outcome:
    """Turn one received message into what it should become."""
    if incoming.automatic:
        return Outcome.IGNORED
    ticket: Ticket | None = None
    boxes: dict[str, int] = {}
    async with core.tx() as db:
        account = None
        if not incoming.authentication_failed:
            account = await db.scalar(select(User).where(User.email == incoming.sender))
        if account is not None and account.is_customer:
            ticket = await _quoted_ticket(db, account, incoming)
            boxes = await _boxes(db, account.id)
    if account is None:
        return await _refuse(core, incoming, Refusal.UNKNOWN_SENDER, DEFAULT_LANGUAGE)
    if not account.is_customer:
        return await _refuse(core, incoming, Refusal.NOT_CUSTOMER, account.language)
    if ticket is not None:
        return await _comment(core, account, ticket, incoming)
    pin = next((pin for pin in incoming.named_pins() if pin in boxes), None)
    if pin is None:
        return await _refuse(core, incoming, Refusal.NO_PIN, account.language)
    return await _open(core, account, boxes[pin], pin, incoming)


async def _quoted_ticket(db: AsyncSession, account: User, incoming: Incoming) -> Ticket | None:
    number = incoming.ticket_number
    if number is None:
        return None
    found: Ticket | None = await db.scalar(
        select(Ticket).where(Ticket.number == number, visible_to(account))
    )
    return found


async def _boxes(db: AsyncSession, customer_id: int) -> dict[str, int]:
    rows = await db.execute(
        select(Installation.box_pin, Installation.id)
        .join(CustomerInstallation, CustomerInstallation.installation_id == Installation.id)
        .where(CustomerInstallation.customer_id == customer_id, Installation.box_pin.is_not(None))
        .order_by(Installation.id)
    )
    return {pin: installation_id for pin, installation_id in rows.tuples() if pin}


def _window(core: Core, incoming: Incoming) -> str:
    """The time window of the copies: from the Date they share, unless it is implausible."""
    now = core.now()
    stamp = incoming.sent_at
    if stamp is None or abs(stamp - now) > DATE_SKEW:
        stamp = now
    minutes = core.settings.inbound_dedupe_minutes
    return str(int(stamp.timestamp()) // (minutes * 60))


def _message_keys(incoming: Incoming, *fingerprint: str) -> list[str]:
    keys = [claims.key("fingerprint", incoming.sender, *fingerprint)]
    if incoming.message_id:
        keys.append(claims.key("message-id", incoming.message_id))
    return keys


async def _open(
    core: Core, account: User, installation_id: int, pin: str, incoming: Incoming
) -> Outcome:
    keys = _message_keys(incoming, pin, incoming.normalized_subject, _window(core, incoming))
    if not await claims.claim(core, keys):
        return Outcome.DUPLICATE
    form = services.NewTicket(
        installation_id=installation_id,
        kind=TicketKind.CONTACT.value,
        description=_description(account.language, incoming),
    )
    try:
        ticket = await services.create_ticket(core, account.id, form)
    except Exception:
        await claims.release(core, keys)
        raise
    await claims.settle(core, keys, ticket.id)
    return Outcome.TICKET


async def _comment(core: Core, account: User, ticket: Ticket, incoming: Incoming) -> Outcome:
    text = _without_quotes(incoming.text)[: services.MAX_TEXT]
    digest = hashlib.sha256(text.encode()).hexdigest()
    keys = _message_keys(incoming, ticket.number, digest, _window(core, incoming))
    if not text or not await claims.claim(core, keys):
        return Outcome.DUPLICATE
    try:
        await services.add_comment(core, account.id, ticket.id, body=text, public=True)
    except Exception:
        await claims.release(core, keys)
        raise
    await claims.settle(core, keys, ticket.id)
    return Outcome.COMMENT


def _without_quotes(text: str) -> str:
    """The reply's own words: the quoted message (lines starting with >) is dropped."""
    lines = [line for line in text.split("\n") if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _description(language: str, incoming: Incoming) -> str:
    """Subject and text; attachments are listed by name (tickets keep no files)."""
    head = incoming.subject[: services.MAX_TEXT // 4]
    if incoming.attachments:
        _ = translator(language)
        names = ", ".join(incoming.attachments)[:1000]
        head += "\n\n" + _("Attachments not kept (ask the customer for them): {names}", names=names)
    room = services.MAX_TEXT - len(head) - 2
    return f"{head}\n\n{incoming.text.strip()[:room]}".strip()


async def _refuse(core: Core, incoming: Incoming, refusal: Refusal, language: str) -> Outcome:
    if incoming.reply_to is None:
        return Outcome.REFUSED
    async with core.tx() as db:
        now = core.now()
        if await _may_reply(db, now, incoming.reply_to):
            enqueue(
                db,
                now,
                MailKind.INBOUND_REFUSED,
                incoming.reply_to,
                language,
                reason=refusal.value,
                subject=incoming.subject or "-",
            )
    return Outcome.REFUSED


async def _may_reply(db: AsyncSession, now: datetime, address: str) -> bool:
    """Record a reply to ``address`` unless one was sent within the hour (atomic upsert).

    Older rows no longer matter and are dropped, so strangers' addresses do not pile up.
    """
    await db.execute(
        delete(InboundMailReply).where(InboundMailReply.last_sent_at <= now - REPLY_INTERVAL)
    )
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(InboundMailReply).values(address=address[:254], last_sent_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[InboundMailReply.address],
        set_={"last_sent_at": now},
        where=InboundMailReply.last_sent_at <= now - REPLY_INTERVAL,
    ).returning(InboundMailReply.address)
    return (await db.execute(stmt)).scalar_one_or_none() is not None
