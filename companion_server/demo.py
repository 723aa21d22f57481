"""Demo data for ``serve --demo``: one installer company with two logins (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.models import Company, Role, User
from companion_server.security.sessions import end_user_sessions

if TYPE_CHECKING:
    from companion_server.core import Core

DEMO_COMPANY = "Demo Installers"
DEMO_PASSWORD = "somfy-demo-2025"  # noqa: S105 (printed on purpose, demo mode only)
DEMO_USERS = (
    ("admin@demo.example", "Alice Admin", Role.ADMIN),
    ("installer@demo.example", "Ivan Installer", Role.INSTALLER),
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
    return [DemoLogin(email, DEMO_PASSWORD, role.value) for email, _, role in DEMO_USERS]
