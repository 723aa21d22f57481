"""How the portal benchmarks fill a database: one company, its people and installations.

Every benchmark seeds the same shapes (same names, PINs and customer e-mails) so that their
figures are comparable and a change to the models is made once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from companion_server.models import Company, Installation, InstallationAssignment, Role, User

ADMIN = "admin@bench.example"


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed_company` added: ids of the company, its people and installations."""

    company_id: int
    admin_id: int
    installer_ids: list[int]
    installation_ids: list[int]


def box_pin(n: int) -> str:
    """The PIN of the box of the ``n``-th installation (from 0)."""
    return f"{n:04}-{n % 9999:04}-0000"


def installer_email(n: int) -> str:
    """The e-mail address of the ``n``-th installer (from 1)."""
    return f"installer{n}@bench.example"


async def add_installations(
    db: AsyncSession,
    company_id: int,
    now: datetime,
    count: int,
    *,
    pending_every: int = 0,
) -> list[int]:
    """``count`` installations, linked or one in ``pending_every`` pending; ids in order."""
    await db.execute(
        insert(Installation),
        [
            {
                "company_id": company_id,
                "name": f"Installation {n:05}",
                "box_pin": box_pin(n),
                "customer_email": f"customer{n}@example.com",
                "status": "pending" if pending_every and n % pending_every == 0 else "linked",
                "created_at": now,
            }
            for n in range(count)
        ],
    )
    return list(
        await db.scalars(
            select(Installation.id)
            .where(Installation.company_id == company_id)
            .order_by(Installation.id)
        )
    )


async def seed_company(
    db: AsyncSession,
    now: datetime,
    *,
    installations: int,
    installers: int,
    password_hash: str = "x",
    pending_every: int = 0,
) -> Seeded:
    """One company, its administrator, ``installers`` installers and the installations.

    The administrator's e-mail is :data:`ADMIN`; each installation is assigned to one
    installer in turn.
    """
    company = Company(name="Bench Installers", created_at=now)
    db.add(company)
    await db.flush()
    people = [
        User(
            company_id=company.id,
            email=ADMIN if n == 0 else installer_email(n),
            name=f"Person {n}",
            password_hash=password_hash,
            role=(Role.ADMIN if n == 0 else Role.INSTALLER).value,
            language="en",
            failed_logins=0,
            created_at=now,
            email_confirmed_at=now,
        )
        for n in range(installers + 1)
    ]
    db.add_all(people)
    await db.flush()
    ids = await add_installations(db, company.id, now, installations, pending_every=pending_every)
    await db.execute(
        insert(InstallationAssignment),
        [
            {"installation_id": i, "user_id": people[1 + n % installers].id, "assigned_at": now}
            for n, i in enumerate(ids)
        ],
    )
    return Seeded(
        company_id=company.id,
        admin_id=people[0].id,
        installer_ids=[person.id for person in people[1:]],
        installation_ids=ids,
    )
