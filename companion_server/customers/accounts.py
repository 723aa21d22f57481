"""Where portal-wide accounts live, and which installations a customer owns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.errors import Forbidden, NotFound
from companion_server.models import Company, CustomerInstallation, Installation, User

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

PORTAL_COMPANY_NAME = "Portal accounts"


async def portal_company_id(db: AsyncSession, now: datetime) -> int:
    """The company row holding customers and support staff, created on first use.

    ``users.company_id`` is required; portal-wide accounts point at this row, which owns no
    installation, so a company-scoped query never reaches another company through them.
    """
    found = await db.scalar(select(Company.id).where(Company.portal.is_(True)).order_by(Company.id))
    if found is not None:
        return found
    company = Company(name=PORTAL_COMPANY_NAME, created_at=now, portal=True)
    db.add(company)
    await db.flush()
    return company.id


async def owned_installations(db: AsyncSession, customer_id: int) -> list[Installation]:
    """The installations of a customer's boxes, by name."""
    rows = await db.scalars(
        select(Installation)
        .join(CustomerInstallation, CustomerInstallation.installation_id == Installation.id)
        .where(CustomerInstallation.customer_id == customer_id)
        .order_by(Installation.name, Installation.id)
    )
    return list(rows)


async def owns(db: AsyncSession, customer_id: int, installation_id: int) -> bool:
    """Whether the customer owns the installation."""
    found = await db.get(CustomerInstallation, (customer_id, installation_id))
    return found is not None


async def company_admin(db: AsyncSession, actor_id: int) -> User:
    """The acting user, who must be an administrator of their company."""
    actor = await db.get(User, actor_id)
    if actor is None:
        raise NotFound()
    if not actor.is_admin:
        raise Forbidden("Only administrators can do this.")
    return actor
