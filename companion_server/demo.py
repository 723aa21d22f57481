"""Demo data for ``serve --demo``: one installer company with two logins (idempotent)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from pathlib import Path
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.models import (
    Company,
    DeviceRecord,
    Installation,
    InstallationDocument,
    InstallationPlace,
    Role,
    SubInstallation,
    User,
)
from companion_server.security.sessions import end_user_sessions

if TYPE_CHECKING:
    from companion_server.core import Core

DEMO_COMPANY = "Demo Installers"
DEMO_PASSWORD = "somfy-demo-2025"  # noqa: S105 (printed on purpose, demo mode only)
DEMO_RECORD_REF = "demo-records"
# A one-page PDF: the demo installation's string plan.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
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
    await seed_demo_records(core, company_id)
    return [DemoLogin(email, DEMO_PASSWORD, role.value) for email, _, role in DEMO_USERS]


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


async def seed_demo_records(core: Core, company_id: int) -> None:
    """An installation with a location, a sub-installation, a device and a document (once)."""
    async with core.tx() as db:
        exists = await db.scalar(
            select(InstallationPlace.installation_id)
            .join(Installation, Installation.id == InstallationPlace.installation_id)
            .where(
                Installation.company_id == company_id,
                InstallationPlace.external_ref == DEMO_RECORD_REF,
            )
        )
        if exists is not None:
            return
        now = core.now()
        installation = Installation(
            company_id=company_id,
            name="Rodinný dom Nováková",
            customer_email="jana.novakova@demo.example",
            status="pending",
            created_at=now,
        )
        db.add(installation)
        await db.flush()
        db.add(
            InstallationPlace(
                installation_id=installation.id,
                street="Hlavná 1",
                city="Košice",
                latitude=48.7164,
                longitude=21.2611,
                external_ref=DEMO_RECORD_REF,
            )
        )
        garage = SubInstallation(installation_id=installation.id, name="Garáž", created_at=now)
        db.add(garage)
        await db.flush()
        db.add(
            DeviceRecord(
                installation_id=installation.id,
                sub_installation_id=garage.id,
                serial="INV-2024-0042",
                model="Inverter X",
                label="Garage inverter",
                installed_on=date(2024, 3, 1),
                created_at=now,
            )
        )
        stored = secrets.token_hex(16)
        await asyncio.to_thread(_write, Path(core.settings.documents_dir) / stored, DEMO_PDF)
        db.add(
            InstallationDocument(
                installation_id=installation.id,
                stored_name=stored,
                title="String plan.pdf",
                kind="pdf",
                size=len(DEMO_PDF),
                uploaded_at=now,
            )
        )
