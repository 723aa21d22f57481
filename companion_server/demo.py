"""Demo data for ``serve --demo`` (idempotent).

One installer company with three logins (administrator, installer, operator); a demo home
subscribed to the monitoring centre, with two contacts, so that the operator's console has an
installation whose alarms open cases; a homeowner's customer account owning a box the company
looks after, with two tickets (one answered); and the manufacturer's support.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
import json
from pathlib import Path
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.centre import store
from companion_server.centre.protocol_values import CaseKind
from companion_server.customers.accounts import portal_company_id
from companion_server.models import (
    CentreSubscription,
    Company,
    CustomerInstallation,
    DeviceRecord,
    Installation,
    InstallationAssignment,
    InstallationDocument,
    InstallationPlace,
    Role,
    SubInstallation,
    Ticket,
    TicketComment,
    TicketKind,
    TicketStatus,
    User,
)
from companion_server.security import scrypt_hashes
from companion_server.security.sessions import end_user_sessions
from companion_server.security.tokens import new_token
from companion_server.tickets.services import ticket_number

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

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
    ("operator@demo.example", "Olga Operator", Role.OPERATOR),
)
DEMO_HOME = "Demo home (monitored)"
# What the demo home's contacts say on the phone to identify themselves.
DEMO_CONTACT_PASSWORDS = ("papillon", "hirondelle")
DEMO_CONTACTS = (
    ("owner", "Claire", "Dupont", "+33612345678"),
    ("outside", "Marc", "Voisin", "+33698765432"),
)
# Portal-wide accounts: the homeowner and the manufacturer's support.
PORTAL_USERS = (
    ("customer@demo.example", "Carla Customer", Role.CUSTOMER),
    ("support@demo.example", "Sam Support", Role.SUPPORT),
)
DEMO_HOUSE = "Demo house"
DEMO_PIN = "2468-1357-9000"  # not the simulator's box: that one is linked in the demo


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
        await _monitored_home(db, company_id, now)
        await _seed_customer(db, now, company_id, users)
    await seed_demo_records(core, company_id)
    return [
        DemoLogin(email, DEMO_PASSWORD, role.value) for email, _, role in DEMO_USERS + PORTAL_USERS
    ]


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


async def _seed_customer(
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
