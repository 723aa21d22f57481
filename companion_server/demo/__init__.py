"""Demo data for ``serve --demo`` (idempotent).

One installer company with three logins (administrator, installer, operator); a demo home
subscribed to the monitoring centre, with two contacts, so that the operator's console has an
installation whose alarms open cases; a homeowner's customer account owning a box the company
looks after, with two tickets (one answered), a continuous recording subscribed and an issued
invoice; a second customer holding the Premium support plan, whose remote intervention is
invoiced at the plan's discount; the company's services catalogue; and the manufacturer's
support. Each area seeds its own part from a module of this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.customers.accounts import portal_company_id
from companion_server.demo.billing import seed_demo_services
from companion_server.demo.centre import DEMO_CONTACT_PASSWORDS, seed_monitored_home
from companion_server.demo.customers import seed_customer
from companion_server.demo.invoicing import seed_demo_invoice
from companion_server.demo.plan_intervention import PLAN_CUSTOMER, seed_plan_intervention
from companion_server.demo.records import seed_demo_records
from companion_server.models import Company, Role, User
from companion_server.security.sessions import end_user_sessions

if TYPE_CHECKING:
    from companion_server.core import Core

__all__ = ["DEMO_CONTACT_PASSWORDS", "DEMO_PASSWORD", "DemoLogin", "seed_demo"]

DEMO_COMPANY = "Demo Installers"
DEMO_PASSWORD = "somfy-demo-2025"  # noqa: S105 (printed on purpose, demo mode only)
DEMO_USERS = (
    ("admin@demo.example", "Alice Admin", Role.ADMIN),
    ("installer@demo.example", "Ivan Installer", Role.INSTALLER),
    ("operator@demo.example", "Olga Operator", Role.OPERATOR),
)
# Portal-wide accounts: the homeowner and the manufacturer's support.
PORTAL_USERS = (
    ("customer@demo.example", "Carla Customer", Role.CUSTOMER),
    ("support@demo.example", "Sam Support", Role.SUPPORT),
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """One demo login to print."""

    email: str
    password: str
    role: str


async def seed_demo(core: Core) -> list[DemoLogin]:
    """Create (or restore) the demo company and its users with the demo password."""
    password_hash = await core.passwords.hash(DEMO_PASSWORD)
    async with core.tx() as db:
        now = core.now()
        admin = await db.scalar(select(User).where(User.email == DEMO_USERS[0][0]))
        if admin is None:
            company = Company(name=DEMO_COMPANY, created_at=now)
            db.add(company)
            await db.flush()
            company_id = company.id
        else:
            company_id = admin.company_id
        portal_id = await portal_company_id(db, now)
        users = {}
        for email, name, role in DEMO_USERS + PORTAL_USERS:
            home = portal_id if role in (Role.CUSTOMER, Role.SUPPORT) else company_id
            user = await db.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(
                    company_id=home,
                    email=email,
                    name=name,
                    role=role.value,
                    language="en",
                    failed_logins=0,
                    created_at=now,
                    password_hash=password_hash,
                )
                db.add(user)
                await db.flush()
            elif user.company_id != home:
                continue
            else:
                user.password_hash = password_hash
                await end_user_sessions(db, user.id)
            user.email_confirmed_at = user.email_confirmed_at or now
            user.failed_logins = 0
            user.locked_at = None
            user.lock_reason = None
            users[role] = user
        await seed_monitored_home(db, company_id, now)
        await seed_customer(db, now, company_id, users)
    await seed_demo_records(core, company_id)
    await seed_demo_invoice(core, company_id)
    await seed_demo_services(core, company_id)
    await seed_plan_intervention(core, company_id, password_hash)
    return [
        DemoLogin(email, DEMO_PASSWORD, role.value) for email, _, role in DEMO_USERS + PORTAL_USERS
    ] + [DemoLogin(PLAN_CUSTOMER, DEMO_PASSWORD, Role.CUSTOMER.value)]
