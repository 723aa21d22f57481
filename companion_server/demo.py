"""Demo data for ``serve --demo``: one installer company with three logins (idempotent).

The company also looks after a demo home subscribed to the monitoring centre, with two
contacts, so that the operator's console has an installation whose alarms open cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import json
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.centre import store
from companion_server.centre.protocol_values import CaseKind
from companion_server.models import CentreSubscription, Company, Installation, Role, User
from companion_server.security import scrypt_hashes
from companion_server.security.sessions import end_user_sessions

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

DEMO_COMPANY = "Demo Installers"
DEMO_PASSWORD = "somfy-demo-2025"  # noqa: S105 (printed on purpose, demo mode only)
DEMO_USERS = (
    ("admin@demo.example", "Alice Admin", Role.ADMIN),
    ("installer@demo.example", "Ivan Installer", Role.INSTALLER),
    ("operator@demo.example", "Olga Operator", Role.OPERATOR),
)
DEMO_HOME = "Demo home (monitored)"
# What the demo home's contacts say on the phone to identify themselves.
DEMO_CONTACT_PASSWORDS = ("papillon", "hirondelle")
DEMO_CONTACTS = (
    ("owner", "Claire", "Dupont", "+33612345678"),
    ("outside", "Marc", "Voisin", "+33698765432"),
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
        for email, name, role in DEMO_USERS:
            user = await db.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(
                    company_id=company_id,
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
            elif user.company_id != company_id:
                continue
            else:
                user.password_hash = password_hash
                await end_user_sessions(db, user.id)
            user.email_confirmed_at = user.email_confirmed_at or now
            user.failed_logins = 0
            user.locked_at = None
            user.lock_reason = None
        await _monitored_home(db, company_id, now)
    return [DemoLogin(email, DEMO_PASSWORD, role.value) for email, _, role in DEMO_USERS]


async def _monitored_home(db: AsyncSession, company_id: int, now: datetime) -> None:
    """The demo home subscribed to the monitoring centre (its contacts' passwords printed)."""
    home = await db.scalar(
        select(Installation).where(
            Installation.company_id == company_id, Installation.name == DEMO_HOME
        )
    )
    if home is None:
        home = Installation(company_id=company_id, name=DEMO_HOME, status="pending", created_at=now)
        db.add(home)
        await db.flush()
    contacts = [
        {
            "kind": kind,
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "password_hash": scrypt_hashes.make(password, f"demo-salt-{n:06d}".encode()),
        }
        for n, ((kind, first, last, phone), password) in enumerate(
            zip(DEMO_CONTACTS, DEMO_CONTACT_PASSWORDS, strict=True)
        )
    ]
    values = {
        "status": "active",
        "complete": True,
        "contacts": json.dumps(contacts),
        "address": json.dumps(
            {"street": "12 rue des Lilas", "postcode": "69003", "city": "Lyon", "country": "FR"}
        ),
        "instructions": "The spare key is with Marc, next door.",
        "on_site": json.dumps(
            {"guard_may_enter": True, "key_holder": "Marc Voisin", "access_notes": "Gate code 2580"}
        ),
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        "received_at": now,
    }
    row = await db.get(CentreSubscription, home.id)
    if row is None:
        db.add(CentreSubscription(installation_id=home.id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
    # An intrusion waiting in the console, unless one is open already.
    if await store.open_case_of(db, home.id) is None:
        await store.open_new(
            db,
            company_id=company_id,
            installation_id=home.id,
            kind=CaseKind.INTRUSION,
            contacts=contacts,
            now=now,
        )
