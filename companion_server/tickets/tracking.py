"""Ticket tracking (O10): the last three months by default, search, status filter, pages.

Keyset pagination on the id (newest first), as the installations queue does: a page costs
the same whatever its position, and rows do not shift when tickets are added meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from companion_server.billing import plans
from companion_server.keyset import choice_param, search_param, split_page
from companion_server.models import Installation, Ticket, User
from companion_server.parsing import parse_id
from companion_server.tickets.access import fresh_user, visible_to
from companion_server.tickets.labels import OPEN_STATUSES, STATUS_LABELS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from companion_server.core import Core

PAGE_SIZE: Final = 50
MAX_SEARCH: Final = 100
RECENT: Final = timedelta(days=92)  # "the last three months"
FILTERS: Final = ("all", "open", *STATUS_LABELS)
PERIODS: Final = ("recent", "all")


@dataclass(frozen=True, slots=True)
class TicketQuery:
    """Search text (serial, PIN, customer name or number), status filter, period, page."""

    search: str = ""
    status: str = "all"
    period: str = "recent"
    after: int | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> TicketQuery:
        """From query parameters; unknown values fall back to the defaults."""
        return cls(
            search=search_param(params, MAX_SEARCH),
            status=choice_param(params, "status", FILTERS, "all"),
            period=choice_param(params, "period", PERIODS, "recent"),
            after=parse_id(params.get("after")),
        )


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One line of the list."""

    ticket: Ticket
    installation_name: str
    box_pin: str
    customer_name: str
    assignee_name: str


@dataclass(frozen=True, slots=True)
class TicketPage:
    """One page of tickets."""

    rows: list[TicketRow]
    query: TicketQuery
    next_after: int | None


async def ticket_page(core: Core, actor_id: int, query: TicketQuery) -> TicketPage:
    """The tickets the actor sees that match the query, newest first."""
    customer = aliased(User)
    assignee = aliased(User)
    stmt = (
        select(Ticket, Installation.name, Installation.box_pin, customer.name, assignee.name)
        .join(Installation, Installation.id == Ticket.installation_id)
        .outerjoin(customer, customer.id == Ticket.customer_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
    )
    if query.period == "recent":
        stmt = stmt.where(Ticket.created_at >= core.now() - RECENT)
    if query.status == "open":
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    elif query.status != "all":
        stmt = stmt.where(Ticket.status == query.status)
    if query.search:
        text = query.search
        stmt = stmt.where(
            or_(
                Ticket.number.icontains(text, autoescape=True),
                Ticket.device_serial.icontains(text, autoescape=True),
                Ticket.device_url.icontains(text, autoescape=True),
                Installation.box_pin.icontains(text, autoescape=True),
                customer.name.icontains(text, autoescape=True),
            )
        )
    if query.after is not None:
        stmt = stmt.where(Ticket.id < query.after)
    async with core.tx() as db:
        actor = await fresh_user(db, actor_id)
        stmt = stmt.where(visible_to(actor)).order_by(Ticket.id.desc()).limit(PAGE_SIZE + 1)
        rows = [
            TicketRow(ticket, name, pin or "", customer_name or "", assignee_name or "")
            for ticket, name, pin, customer_name, assignee_name in (await db.execute(stmt)).tuples()
        ]
        page, last = split_page(rows, PAGE_SIZE)
        # Support plan holders are served first: on each page, their tickets lead.
        priority = await plans.plan_priorities(
            db, {row.ticket.installation_id for row in page}, core.now()
        )
    page.sort(key=lambda row: -priority.get(row.ticket.installation_id, 0))
    return TicketPage(page, query, None if last is None else last.ticket.id)


async def customer_tickets(core: Core, customer_id: int) -> list[TicketRow]:
    """Every ticket of the customer's installations, newest first (their own area)."""
    async with core.tx() as db:
        actor = await fresh_user(db, customer_id)
        stmt = (
            select(Ticket, Installation.name, Installation.box_pin)
            .join(Installation, Installation.id == Ticket.installation_id)
            .where(visible_to(actor))
            .order_by(Ticket.id.desc())
            .limit(200)
        )
        return [
            TicketRow(ticket, name, pin or "", actor.name, "")
            for ticket, name, pin in (await db.execute(stmt)).tuples()
        ]
