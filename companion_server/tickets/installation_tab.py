"""The Tickets tab of an installation (O13): its open and closed tickets.

The tab opens for whoever sees the installation (its company's administrators, the
installers it is assigned to; anyone else gets 404) and lists the tickets of the
installation that the same person sees on ``/tickets``, whatever their age.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import aliased

from companion_server.installation_tabs import tab_context
from companion_server.models import Installation, Ticket, User
from companion_server.tickets.access import fresh_user, visible_to
from companion_server.tickets.labels import OPEN_STATUSES
from companion_server.tickets.tracking import TicketRow
from companion_server.web import core_of, current_user, login_required, render

if TYPE_CHECKING:
    from companion_server.core import Core

routes = web.RouteTableDef()
# Per list; the rest is one search away on /tickets (the link carries the box PIN).
LIMIT: Final = 100


async def installation_tickets(
    core: Core, actor_id: int, installation_id: int, *, open_ones: bool
) -> tuple[list[TicketRow], bool]:
    """The installation's open (or closed) tickets the actor sees, newest first; more left."""
    customer = aliased(User)
    assignee = aliased(User)
    status = Ticket.status.in_(OPEN_STATUSES)
    stmt = (
        select(Ticket, Installation.name, Installation.box_pin, customer.name, assignee.name)
        .join(Installation, Installation.id == Ticket.installation_id)
        .outerjoin(customer, customer.id == Ticket.customer_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(Ticket.installation_id == installation_id, status if open_ones else ~status)
        .order_by(Ticket.id.desc())
        .limit(LIMIT + 1)
    )
    async with core.tx() as db:
        actor = await fresh_user(db, actor_id)
        result = await db.execute(stmt.where(visible_to(actor)))
        rows = [
            TicketRow(ticket, name, pin or "", customer_name or "", assignee_name or "")
            for ticket, name, pin, customer_name, assignee_name in result.tuples()
        ]
    return rows[:LIMIT], len(rows) > LIMIT


@routes.get("/installations/{installation_id}/tickets", allow_head=False)
@login_required
async def tickets_tab(request: web.Request) -> web.StreamResponse:
    """The installation's tickets, open ones first."""
    context = await tab_context(request, "tickets")
    core, actor_id = core_of(request), current_user(request).id
    installation_id = context["installation"].id
    open_rows, more_open = await installation_tickets(
        core, actor_id, installation_id, open_ones=True
    )
    closed_rows, more_closed = await installation_tickets(
        core, actor_id, installation_id, open_ones=False
    )
    context.update(
        {
            "open_rows": open_rows,
            "closed_rows": closed_rows,
            "more": more_open or more_closed,
        }
    )
    return render(request, "tickets/installation.html", context)
