"""What the homeowner's Home Assistant is told of their tickets and their company's messages.

Two acknowledged frames (``docs/protocol.md``): ``tickets``, the whole list of the box's
tickets (open ones, and those closed in the last 30 days so that Home Assistant sees them
close), queued after every change and on every ``hello``; ``customer_message``, one per
administrator's message to a customer who owns the box. A newer ``tickets`` frame withdraws
an older one not acknowledged yet: each carries the whole state, so at most one waits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import bindparam, delete, or_, select

from companion_server.hub import outbox, protocol
from companion_server.models import (
    CustomerInstallation,
    CustomerMessage,
    Installation,
    InstallationLink,
    PortalFrame,
    Ticket,
    TicketComment,
    TicketStatus,
    User,
)

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

TICKETS: Final = "tickets"
CUSTOMER_MESSAGE: Final = "customer_message"
MAX_TICKETS: Final = 50
DESCRIPTION_CHARS: Final = 200
COMMENT_CHARS: Final = 1000
NAME_CHARS: Final = 200
MESSAGE_CHARS: Final = 4000
# A closed ticket stays in the list this long: Home Assistant sees it close, then forgets it.
CLOSED_KEPT: Final = timedelta(days=30)
# Messages older than this are not carried to a Home Assistant linked later.
MESSAGES_KEPT: Final = timedelta(days=30)


async def _linked(db: AsyncSession, installation_id: int) -> bool:
    found = await db.scalar(
        select(InstallationLink.id).where(
            InstallationLink.installation_id == installation_id,
            InstallationLink.revoked_at.is_(None),
        )
    )
    return found is not None


async def _last_answer(db: AsyncSession, ticket: Ticket) -> dict[str, Any] | None:
    """The newest public comment with text by someone other than the customer."""
    comment = await db.scalar(
        select(TicketComment)
        .where(
            TicketComment.ticket_id == ticket.id,
            TicketComment.public.is_(True),
            TicketComment.body != "",
            or_(TicketComment.author_id.is_(None), TicketComment.author_id != ticket.customer_id),
        )
        .order_by(TicketComment.id.desc())
        .limit(1)
    )
    if comment is None:
        return None
    return {
        "id": comment.id,
        "author": comment.author_name[:NAME_CHARS],
        "text": comment.body[:COMMENT_CHARS],
        "at": comment.created_at.isoformat(),
    }


async def tickets_payload(core: Core, db: AsyncSession, installation_id: int) -> dict[str, Any]:
    """The ``tickets`` payload of one box, newest first, cut to fit one frame."""
    now = core.now()
    rows = await db.scalars(
        select(Ticket)
        .where(
            Ticket.installation_id == installation_id,
            or_(Ticket.status != TicketStatus.CLOSED.value, Ticket.updated_at >= now - CLOSED_KEPT),
        )
        .order_by(Ticket.id.desc())
        .limit(MAX_TICKETS)
    )
    tickets = []
    for ticket in rows:
        assignee = await db.get(User, ticket.assignee_id) if ticket.assignee_id else None
        tickets.append(
            {
                "number": ticket.number,
                "kind": ticket.kind,
                "status": ticket.status,
                "description": ticket.description[:DESCRIPTION_CHARS],
                "assignee": assignee.name[:NAME_CHARS] if assignee else None,
                "comment": await _last_answer(db, ticket),
                "updated_at": ticket.updated_at.isoformat(),
                "url": f"{core.settings.public_url}/customer/tickets/{ticket.id}"[:300],
            }
        )
    payload = {"at": now.isoformat(), "tickets": tickets}
    return protocol.bounded_list(TICKETS, payload, "tickets")


async def queue_tickets(core: Core, db: AsyncSession, installation_id: int) -> bool:
    """Queue the box's ticket list for its Home Assistant (when linked); True if queued."""
    if not await _linked(db, installation_id):
        return False
    owned, has_tickets = await _followed(db, installation_id)
    if owned is None and has_tickets is None:
        return False  # no customer, no ticket: nothing a todo list would show
    await _queue_ticket_list(core, db, installation_id)
    return True


async def queue_on_hello(
    core: Core,
    db: AsyncSession,
    installation: Installation,
    followed: tuple[int | None, int | None],
) -> bool:
    """On a ``hello`` (over a live link): the ticket list and the messages not yet carried.

    True if anything was queued. ``followed``: the :data:`HELLO_FACTS` read with the
    ``hello``; they answer for most boxes of a restart storm: no customer, no ticket.
    """
    owned, has_tickets = followed
    if owned is None and has_tickets is None:
        return False
    await _queue_ticket_list(core, db, installation.id)
    if owned is not None:
        await _queue_pending_messages(core, db, installation)
    return True


# A customer owning the box and one of its tickets (None each when there is none).
HELLO_FACTS = {
    "box_owner": select(CustomerInstallation.customer_id)
    .where(CustomerInstallation.installation_id == bindparam("installation_id"))
    .limit(1)
    .scalar_subquery(),
    "tickets_ticket": select(Ticket.id)
    .where(Ticket.installation_id == bindparam("installation_id"))
    .limit(1)
    .scalar_subquery(),
}
_FOLLOWED = select(*HELLO_FACTS.values())


async def _followed(db: AsyncSession, installation_id: int) -> tuple[int | None, int | None]:
    row = (await db.execute(_FOLLOWED, {"installation_id": installation_id})).one()
    return row[0], row[1]


async def _queue_ticket_list(core: Core, db: AsyncSession, installation_id: int) -> None:
    await db.execute(
        delete(PortalFrame).where(
            PortalFrame.installation_id == installation_id,
            PortalFrame.type == TICKETS,
            PortalFrame.acked_at.is_(None),
        )
    )
    payload = await tickets_payload(core, db, installation_id)
    outbox.queue_frame(db, installation_id, core.now(), TICKETS, payload)


async def _queue_pending_messages(core: Core, db: AsyncSession, installation: Installation) -> bool:
    now = core.now()
    messages = list(
        await db.scalars(
            select(CustomerMessage)
            .join(
                CustomerInstallation,
                CustomerInstallation.customer_id == CustomerMessage.customer_id,
            )
            .where(
                CustomerInstallation.installation_id == installation.id,
                CustomerMessage.company_id == installation.company_id,
                CustomerMessage.delivered_at.is_(None),
                CustomerMessage.created_at >= now - MESSAGES_KEPT,
            )
            .order_by(CustomerMessage.id)
        )
    )
    for message in messages:
        _queue_message(db, installation.id, now, message)
    return bool(messages)


async def queue_new_message(
    core: Core, db: AsyncSession, message: CustomerMessage, installation_ids: list[int]
) -> list[int]:
    """Queue a new message for every linked box of the customer; the boxes queued to."""
    queued = [i for i in installation_ids if await _linked(db, i)]
    for installation_id in queued:
        _queue_message(db, installation_id, core.now(), message)
    return queued


def _queue_message(
    db: AsyncSession, installation_id: int, now: datetime, message: CustomerMessage
) -> None:
    outbox.queue_frame(
        db,
        installation_id,
        now,
        CUSTOMER_MESSAGE,
        {
            "message_id": message.id,
            "sender": message.sender_name[:NAME_CHARS],
            "body": message.body[:MESSAGE_CHARS],
            "at": message.created_at.isoformat(),
        },
    )
    # Handed to the outbox: delivered at least once from here on.
    message.delivered_at = now


async def customer_installations(db: AsyncSession, customer_id: int, company_id: int) -> list[int]:
    """The installations of a company that a customer owns."""
    rows = await db.scalars(
        select(CustomerInstallation.installation_id)
        .join(Installation, Installation.id == CustomerInstallation.installation_id)
        .where(
            CustomerInstallation.customer_id == customer_id,
            Installation.company_id == company_id,
        )
    )
    return list(rows)


async def frames_pending(core: Core, installation_ids: list[int]) -> None:
    """After the commit: the live channels of these boxes send what was queued."""
    if core.hub is None:
        return
    for installation_id in installation_ids:
        await core.hub.frames_pending(installation_id)
