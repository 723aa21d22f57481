"""The homeowner's customer account: a house the company looks after, with two tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.models import (
    CustomerInstallation,
    Installation,
    InstallationAssignment,
    Role,
    Ticket,
    TicketComment,
    TicketKind,
    TicketStatus,
    User,
)
from companion_server.security.tokens import new_token
from companion_server.tickets.services import ticket_number

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

DEMO_HOUSE = "Demo house"
DEMO_PIN = "2468-1357-9000"  # not the simulator's box: that one is linked in the demo


async def seed_customer(
    db: AsyncSession, now: datetime, company_id: int, users: dict[Role, User]
) -> None:
    """The customer's house, assigned to the installer, with two tickets (once)."""
    customer = users.get(Role.CUSTOMER)
    installer = users.get(Role.INSTALLER)
    if customer is None or installer is None:
        return
    if await db.scalar(select(Installation.id).where(Installation.name == DEMO_HOUSE)):
        return
    house = Installation(
        company_id=company_id,
        name=DEMO_HOUSE,
        box_pin=DEMO_PIN,
        customer_email=customer.email,
        status="pending",
        created_at=now,
    )
    db.add(house)
    await db.flush()
    db.add(CustomerInstallation(customer_id=customer.id, installation_id=house.id, created_at=now))
    db.add(InstallationAssignment(installation_id=house.id, user_id=installer.id, assigned_at=now))
    answered = _ticket(house, customer, now, TicketKind.CONTACT, "The garage door closes slowly.")
    answered.status = TicketStatus.IN_PROGRESS.value
    answered.assignee_id = installer.id
    waiting = _ticket(house, customer, now, TicketKind.REPLACEMENT, "The kitchen remote is broken.")
    waiting.device_serial = "SN-0042-1337"
    db.add_all([answered, waiting])
    await db.flush()
    for ticket in (answered, waiting):
        ticket.number = ticket_number(ticket.id)
    db.add(
        TicketComment(
            ticket_id=answered.id,
            author_id=installer.id,
            author_name=installer.name,
            body="I will come on Monday to adjust the motor's end limits.",
            public=True,
            status=TicketStatus.IN_PROGRESS.value,
            minutes=15,
            created_at=now,
        )
    )
    answered.time_spent_minutes = 15


def _ticket(
    house: Installation, customer: User, now: datetime, kind: TicketKind, text: str
) -> Ticket:
    return Ticket(
        number=new_token()[0][:20],
        installation_id=house.id,
        company_id=house.company_id,
        customer_id=customer.id,
        kind=kind.value,
        description=text,
        status=TicketStatus.NEW.value,
        created_by_id=customer.id,
        created_by_role=Role.CUSTOMER.value,
        time_spent_minutes=0,
        created_at=now,
        updated_at=now,
    )
