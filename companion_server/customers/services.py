"""The customer area, and a company's view of its customers (O8, O17).

A customer sees the installations they own, the public part of their interventions journal
and their tickets. An administrator sees the customers who own an installation of their
company and can write to them: the message is mailed and kept for Home Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, or_, select

from companion_server.customers.accounts import company_admin, owned_installations
from companion_server.errors import Forbidden, NotFound, ValidationFailed
from companion_server.keyset import decode_cursor, encode_cursor, split_page
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    Company,
    CustomerInstallation,
    CustomerMessage,
    Installation,
    InterventionEntry,
    User,
)
from companion_server.parsing import has_control_characters
from companion_server.tickets import home_assistant

if TYPE_CHECKING:
    from companion_server.core import Core

JOURNAL_ENTRIES = 20
MAX_MESSAGE = 4000
PAGE_SIZE = 50  # customers per page of the company's list


@dataclass(slots=True)
class OwnedInstallation:
    """One of the customer's installations with the public journal entries."""

    installation: Installation
    company_name: str
    entries: list[InterventionEntry] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CompanyCustomer:
    """A customer of the company and the company's installations they own."""

    id: int
    name: str
    email: str
    installations: tuple[str, ...]


async def customer_area(core: Core, customer_id: int) -> list[OwnedInstallation]:
    """The customer's installations, each with its latest public journal entries."""
    async with core.tx() as db:
        result = []
        for installation in await owned_installations(db, customer_id):
            company = await db.get(Company, installation.company_id)
            entries = await db.scalars(
                select(InterventionEntry)
                .where(
                    InterventionEntry.installation_id == installation.id,
                    InterventionEntry.private.is_(False),
                )
                .order_by(InterventionEntry.at.desc(), InterventionEntry.id.desc())
                .limit(JOURNAL_ENTRIES)
            )
            result.append(
                OwnedInstallation(installation, company.name if company else "", list(entries))
            )
        return result


@dataclass(frozen=True, slots=True)
class CustomerPage:
    """One page of the company's customers, by name, and where the next one starts."""

    customers: list[CompanyCustomer]
    next_after: str | None


async def company_customers(core: Core, actor: User, after: str | None = None) -> CustomerPage:
    """The customers owning an installation of the administrator's company, by name.

    One page of :data:`PAGE_SIZE` at a time, by keyset (name, id): the ``(name, id)`` index of
    ``users`` gives the order, each customer is kept when they own one of the company's boxes.
    ``actor`` as this request loaded it with its session: reading it again cost a statement,
    a tenth of the page's CPU.
    """
    if not actor.is_admin:
        raise Forbidden("Only administrators can do this.")
    start = decode_cursor(after, str)
    async with core.reads() as db:
        owns_one = exists().where(
            CustomerInstallation.customer_id == User.id,
            Installation.id == CustomerInstallation.installation_id,
            Installation.company_id == actor.company_id,
        )
        query = select(User.id, User.name, User.email).where(owns_one)
        if start is not None:
            name, user_id = start
            # The redundant ">=" is the range both planners read from the index; the OR alone
            # would make PostgreSQL walk the index from its start and filter.
            query = query.where(
                User.name >= name, or_(User.name > name, and_(User.name == name, User.id > user_id))
            )
        found, last = split_page(
            (await db.execute(query.order_by(User.name, User.id).limit(PAGE_SIZE + 1))).all(),
            PAGE_SIZE,
        )
        owned: dict[int, list[tuple[str, int]]] = {row.id: [] for row in found}
        # Filtered and sorted here: a condition or an order on the company's installations
        # tempts SQLite's planner to walk all of them instead of the page's customers.
        for customer_id, installation, installation_id, company_id in (
            await db.execute(
                select(
                    CustomerInstallation.customer_id,
                    Installation.name,
                    Installation.id,
                    Installation.company_id,
                )
                .join(Installation, Installation.id == CustomerInstallation.installation_id)
                .where(CustomerInstallation.customer_id.in_(owned))
            )
        ).tuples():
            if company_id == actor.company_id:
                owned[customer_id].append((installation, installation_id))
        return CustomerPage(
            [
                CompanyCustomer(
                    row.id, row.name, row.email, tuple(name for name, _ in sorted(owned[row.id]))
                )
                for row in found
            ],
            None if last is None else encode_cursor(last.name, last.id),
        )


async def contact_customer(core: Core, actor_id: int, customer_id: int, body: str) -> None:
    """Write to a customer of the company: mailed now, kept for their Home Assistant."""
    text = body.strip()
    if not text:
        raise ValidationFailed({"body": "Write a message."})
    if len(text) > MAX_MESSAGE:
        raise ValidationFailed({"body": "The message is too long (4000 characters at most)."})
    if has_control_characters(text.replace("\r\n", "").replace("\n", "")):
        raise ValidationFailed({"body": "The message holds characters that cannot be shown."})
    async with core.tx() as db:
        now = core.now()
        actor = await company_admin(db, actor_id)
        customer = await db.get(User, customer_id)
        linked = await db.scalar(
            select(CustomerInstallation.installation_id)
            .join(Installation, Installation.id == CustomerInstallation.installation_id)
            .where(
                CustomerInstallation.customer_id == customer_id,
                Installation.company_id == actor.company_id,
            )
            .limit(1)
        )
        if customer is None or linked is None:
            raise NotFound()
        company = await db.get(Company, actor.company_id)
        assert company is not None
        message = CustomerMessage(
            customer_id=customer.id,
            company_id=company.id,
            sender_id=actor.id,
            sender_name=actor.name,
            body=text,
            created_at=now,
        )
        db.add(message)
        await db.flush()
        boxes = await home_assistant.customer_installations(db, customer.id, company.id)
        queued = await home_assistant.queue_new_message(core, db, message, boxes)
        enqueue(
            db,
            now,
            MailKind.CUSTOMER_MESSAGE,
            customer.email,
            customer.language,
            company=company.name,
            sender=actor.name,
            body=text,
            link=f"{core.settings.public_url}/customer",
        )
    await home_assistant.frames_pending(core, queued)
