"""Who sees which ticket (O6, O7, O10): one rule, used by every page and service.

The manufacturer's support sees every ticket; an administrator their company's; an
installer those of the installations assigned to them and those they handle; a customer
those of the installations they own. Anything else is :class:`NotFound`, never a hint that
the ticket exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from companion_server.errors import NotFound
from companion_server.models import CustomerInstallation, InstallationAssignment, Ticket, User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def visible_to(actor: User) -> ColumnElement[bool]:
    """The condition on :class:`Ticket` rows the actor may see."""
    if actor.is_support:
        return true()
    if actor.is_customer:
        return or_(
            Ticket.customer_id == actor.id,
            exists().where(
                CustomerInstallation.installation_id == Ticket.installation_id,
                CustomerInstallation.customer_id == actor.id,
            ),
        )
    if not actor.is_staff:
        return false()
    own_company = Ticket.company_id == actor.company_id
    if actor.is_admin:
        return own_company
    assigned = exists().where(
        InstallationAssignment.installation_id == Ticket.installation_id,
        InstallationAssignment.user_id == actor.id,
    )
    return own_company & or_(assigned, Ticket.assignee_id == actor.id)


async def fresh_user(db: AsyncSession, user_id: int) -> User:
    """The acting user, reloaded in this transaction."""
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


async def visible_ticket(db: AsyncSession, actor: User, ticket_id: int) -> Ticket:
    """A ticket the actor may see, or :class:`NotFound`."""
    ticket = await db.scalar(select(Ticket).where(Ticket.id == ticket_id, visible_to(actor)))
    if ticket is None:
        raise NotFound()
    return ticket
