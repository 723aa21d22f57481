"""Creating and working on tickets: status, assignee, comments and time spent (D8, O10, O15).

Only a customer (for an installation they own) or the manufacturer's support creates a
ticket; installers and administrators answer them. Every status change is mailed to the
customer in their language; internal comments never reach the customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.customers.accounts import owns
from companion_server.errors import Forbidden, NotFound, ValidationFailed
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    CustomerInstallation,
    Device,
    Installation,
    Role,
    Ticket,
    TicketComment,
    TicketKind,
    TicketStatus,
    User,
)
from companion_server.parsing import has_control_characters
from companion_server.security.tokens import new_token
from companion_server.tickets import home_assistant
from companion_server.tickets.access import fresh_user, visible_ticket
from companion_server.tickets.labels import STATUS_LABELS

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

MAX_TEXT = 4000
MAX_SERIAL = 100
MAX_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class NewTicket:
    """What a customer or support writes in the form (or Home Assistant sends later)."""

    installation_id: int | None
    kind: str
    description: str
    device_url: str = ""
    device_serial: str = ""
    box_pin: str = ""  # support names the installation by its box PIN


@dataclass(slots=True)
class TicketView:
    """A ticket with what its page shows."""

    ticket: Ticket
    installation: Installation
    customer: User | None
    assignee: User | None
    creator_role: str
    comments: list[TicketComment]
    members: list[User]  # who it can be assigned to (staff and support pages only)


def _text(raw: str, field: str, errors: dict[str, str], *, required: bool) -> str:
    text = raw.strip()
    if required and not text:
        errors[field] = "Describe the request."
    elif len(text) > MAX_TEXT:
        errors[field] = "The text is too long (4000 characters at most)."
    elif has_control_characters(text.replace("\r\n", "").replace("\n", "")):
        errors[field] = "The text holds characters that cannot be shown."
    return text


def _check_new(form: NewTicket, errors: dict[str, str]) -> tuple[str, str]:
    if form.kind not in {k.value for k in TicketKind}:
        errors["kind"] = "Choose the kind of request."
    _text(form.description, "description", errors, required=True)
    serial = form.device_serial.strip()
    if len(serial) > MAX_SERIAL or has_control_characters(serial):
        errors["device_serial"] = "Enter the serial number as printed on the device."
    if form.kind == TicketKind.REPLACEMENT and not (serial or form.device_url):
        errors["device_serial"] = "A replacement needs the device: choose it or enter its serial."
    return form.description.strip(), serial


async def _target(db: AsyncSession, actor: User, form: NewTicket) -> Installation | None:
    if actor.is_customer:
        if form.installation_id is None or not await owns(db, actor.id, form.installation_id):
            return None
        return await db.get(Installation, form.installation_id)
    pin = form.box_pin.strip()
    if not pin:
        return None
    found: Installation | None = await db.scalar(
        select(Installation).where(Installation.box_pin == pin).order_by(Installation.id.desc())
    )
    return found


async def create_ticket(core: Core, actor_id: int, form: NewTicket) -> Ticket:
    """Open a ticket as a customer (own installation) or as the manufacturer's support."""
    errors: dict[str, str] = {}
    description, serial = _check_new(form, errors)
    async with core.tx() as db:
        now = core.now()
        actor = await fresh_user(db, actor_id)
        if not (actor.is_customer or actor.is_support):
            raise Forbidden("Only customers and the manufacturer's support create tickets.")
        installation = await _target(db, actor, form)
        if installation is None and actor.is_customer:
            errors["installation_id"] = "Choose one of your installations."
        elif installation is None:
            errors["box_pin"] = "No installation has this box PIN."
        device_url = None
        if installation is not None and form.device_url:
            device_url = await db.scalar(
                select(Device.url).where(
                    Device.installation_id == installation.id, Device.url == form.device_url
                )
            )
            if device_url is None:
                errors["device_url"] = "Choose one of the installation's devices."
        if errors or installation is None:
            raise ValidationFailed(errors)
        customer_id = (
            actor.id if actor.is_customer else await installation_owner(db, installation.id)
        )
        ticket = Ticket(
            number=new_token()[0][:20],  # replaced below, once the id is known
            installation_id=installation.id,
            company_id=installation.company_id,
            customer_id=customer_id,
            kind=form.kind,
            device_url=device_url,
            device_serial=serial or None,
            description=description,
            status=TicketStatus.NEW.value,
            created_by_id=actor.id,
            created_by_role=Role.CUSTOMER.value if actor.is_customer else Role.SUPPORT.value,
            time_spent_minutes=0,
            created_at=now,
            updated_at=now,
        )
        db.add(ticket)
        await db.flush()
        ticket.number = ticket_number(ticket.id)
        queued = await home_assistant.queue_tickets(core, db, installation.id)
    await home_assistant.frames_pending(core, [ticket.installation_id] if queued else [])
    return ticket


def ticket_number(ticket_id: int) -> str:
    """The number people quote (unique in the portal)."""
    return f"T-{ticket_id:06d}"


async def installation_owner(db: AsyncSession, installation_id: int) -> int | None:
    """The customer account that owns the installation (the first linked), if any."""
    found: int | None = await db.scalar(
        select(CustomerInstallation.customer_id)
        .where(CustomerInstallation.installation_id == installation_id)
        .order_by(CustomerInstallation.created_at)
        .limit(1)
    )
    return found


async def ticket_view(core: Core, actor_id: int, ticket_id: int) -> TicketView:
    """A ticket the actor sees; a customer gets the public comments only."""
    async with core.tx() as db:
        actor = await fresh_user(db, actor_id)
        ticket = await visible_ticket(db, actor, ticket_id)
        installation = await db.get(Installation, ticket.installation_id)
        assert installation is not None
        comments = select(TicketComment).where(TicketComment.ticket_id == ticket.id)
        if actor.is_customer:
            comments = comments.where(TicketComment.public.is_(True))
        members: list[User] = []
        if not actor.is_customer:
            members = list(
                await db.scalars(
                    select(User)
                    .where(
                        User.company_id == ticket.company_id,
                        User.role.in_([Role.ADMIN.value, Role.INSTALLER.value]),
                    )
                    .order_by(User.name)
                )
            )
        return TicketView(
            ticket=ticket,
            installation=installation,
            customer=await db.get(User, ticket.customer_id) if ticket.customer_id else None,
            assignee=await db.get(User, ticket.assignee_id) if ticket.assignee_id else None,
            creator_role=ticket.created_by_role,
            comments=list(await db.scalars(comments.order_by(TicketComment.id))),
            members=members,
        )


async def _workable(db: AsyncSession, actor_id: int, ticket_id: int) -> tuple[User, Ticket]:
    actor = await fresh_user(db, actor_id)
    if not (actor.is_staff or actor.is_support):
        raise Forbidden()
    return actor, await visible_ticket(db, actor, ticket_id)


async def change_status(core: Core, actor_id: int, ticket_id: int, status: str) -> None:
    """Move the ticket to a status; the customer is mailed in their language."""
    if status not in STATUS_LABELS:
        raise ValidationFailed({"status": "Choose one of the statuses."})
    async with core.tx() as db:
        now = core.now()
        actor, ticket = await _workable(db, actor_id, ticket_id)
        if ticket.status == status:
            return
        ticket.status = status
        ticket.updated_at = now
        db.add(_entry(actor, ticket, now, public=True, status=status))
        await _mail_status(core, db, now, ticket)
        queued = await home_assistant.queue_tickets(core, db, ticket.installation_id)
    await home_assistant.frames_pending(core, [ticket.installation_id] if queued else [])


async def _mail_status(core: Core, db: AsyncSession, now: datetime, ticket: Ticket) -> None:
    customer = await db.get(User, ticket.customer_id) if ticket.customer_id else None
    if customer is None:
        return
    enqueue(
        db,
        now,
        MailKind.TICKET_STATUS,
        customer.email,
        customer.language,
        number=ticket.number,
        status=STATUS_LABELS[ticket.status],
        link=f"{core.settings.public_url}/customer/tickets/{ticket.id}",
    )


async def assign_ticket(core: Core, actor_id: int, ticket_id: int, assignee_id: int | None) -> None:
    """Give the ticket to a member of its company (None: nobody)."""
    async with core.tx() as db:
        _actor, ticket = await _workable(db, actor_id, ticket_id)
        if assignee_id is not None:
            member = await db.get(User, assignee_id)
            if member is None or member.company_id != ticket.company_id or not member.is_staff:
                raise ValidationFailed({"assignee_id": "Choose a member of the company."})
        ticket.assignee_id = assignee_id
        ticket.updated_at = core.now()
        queued = await home_assistant.queue_tickets(core, db, ticket.installation_id)
    await home_assistant.frames_pending(core, [ticket.installation_id] if queued else [])


async def add_comment(
    core: Core, actor_id: int, ticket_id: int, *, body: str, public: bool, minutes: str = ""
) -> None:
    """A comment (public or internal) with the time spent; customers write public ones."""
    errors: dict[str, str] = {}
    text = _text(body, "body", errors, required=False)
    spent = 0
    raw_minutes = minutes.strip()
    if raw_minutes:
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        digits = raw_minutes.isascii() and raw_minutes.isdigit() and len(raw_minutes) <= 4
        if not digits or int(raw_minutes) > MAX_MINUTES:
            errors["minutes"] = "Enter the minutes spent (0 to 1440)."
        else:
            spent = int(raw_minutes)
    if not text and not spent and "minutes" not in errors:
        errors["body"] = "Write a comment or enter the time spent."
    if errors:
        raise ValidationFailed(errors)
    async with core.tx() as db:
        now = core.now()
        actor = await fresh_user(db, actor_id)
        ticket = await visible_ticket(db, actor, ticket_id)
        if actor.is_customer:
            public, spent = True, 0
        elif not (actor.is_staff or actor.is_support):
            raise NotFound()
        entry = _entry(actor, ticket, now, public=public and bool(text))
        entry.body = text
        entry.minutes = spent
        db.add(entry)
        ticket.time_spent_minutes += spent
        ticket.updated_at = now
        queued = entry.public and await home_assistant.queue_tickets(
            core, db, ticket.installation_id
        )
    await home_assistant.frames_pending(core, [ticket.installation_id] if queued else [])


def _entry(
    actor: User, ticket: Ticket, now: datetime, *, public: bool, status: str | None = None
) -> TicketComment:
    return TicketComment(
        ticket_id=ticket.id,
        author_id=actor.id,
        author_name=actor.name,
        body="",
        public=public,
        status=status,
        minutes=0,
        created_at=now,
    )


async def customer_choices(core: Core, customer_id: int) -> list[tuple[Installation, list[Device]]]:
    """The customer's installations and their devices, for the new-ticket form."""
    async with core.tx() as db:
        rows = await db.scalars(
            select(Installation)
            .join(CustomerInstallation, CustomerInstallation.installation_id == Installation.id)
            .where(CustomerInstallation.customer_id == customer_id)
            .order_by(Installation.name)
        )
        result = []
        for installation in rows:
            devices = await db.scalars(
                select(Device)
                .where(Device.installation_id == installation.id)
                .order_by(Device.label, Device.id)
            )
            result.append((installation, list(devices)))
        return result
