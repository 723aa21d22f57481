"""Data of the customer and ticket tests: companies, linked boxes, customers, tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from companion_server.core import Core
from companion_server.customers.accounts import portal_company_id
from companion_server.models import (
    Company,
    CustomerInstallation,
    Device,
    Installation,
    InstallationAssignment,
    InstallationLink,
    Registration,
    Role,
    User,
)
from companion_server.security.tokens import new_token
from companion_server.tickets import services as tickets
from tests.companion.helpers import PASSWORD, make_company, make_user


@dataclass
class Box:
    """A linked installation and the bearer token of its Home Assistant."""

    installation: Installation
    token: str


async def linked_box(
    core: Core,
    company: Company,
    name: str,
    *,
    email: str | None = "home@example.com",
    pin: str = "1234-5678-9012",
    language: str = "sk",
) -> Box:
    """An installation linked with Home Assistant (its code used in ``language``)."""
    now = core.now()
    token, token_hash = new_token()
    async with core.tx() as db:
        installation = Installation(
            company_id=company.id,
            name=name,
            box_pin=pin,
            customer_email=email,
            status="linked",
            created_at=now,
        )
        db.add(installation)
        await db.flush()
        db.add(
            Registration(
                installation_id=installation.id,
                email=email or "",
                language=language,
                code_hash=new_token()[1],
                created_at=now - timedelta(days=1),
                expires_at=now + timedelta(days=6),
                used_at=now,
                failed_attempts=0,
            )
        )
        db.add(
            InstallationLink(
                installation_id=installation.id,
                token_hash=token_hash,
                instance_id="ha",
                ha_name="Home",
                created_at=now,
            )
        )
        db.add(
            Device(
                installation_id=installation.id,
                url=f"io://{pin}/kitchen",
                label="Kitchen shutter",
                protocol="io",
                updated_at=now,
            )
        )
    return Box(installation, token)


async def make_customer(
    core: Core, email: str, *installations: Installation, name: str = "Hana Homeowner", **extra: str
) -> User:
    """A customer account owning the installations."""
    password_hash = await core.passwords.hash(PASSWORD)
    async with core.tx() as db:
        portal_id = await portal_company_id(db, core.now())
        user = User(
            company_id=portal_id,
            email=email,
            name=name,
            password_hash=password_hash,
            role=Role.CUSTOMER.value,
            language=extra.get("language", "en"),
            failed_logins=0,
            created_at=core.now(),
            email_confirmed_at=core.now(),
        )
        db.add(user)
        await db.flush()
        for installation in installations:
            db.add(
                CustomerInstallation(
                    customer_id=user.id, installation_id=installation.id, created_at=core.now()
                )
            )
        return user


async def make_support(core: Core, email: str = "support@somfy.example") -> User:
    """A member of the manufacturer's support."""
    async with core.tx() as db:
        portal_id = await portal_company_id(db, core.now())
        company = await db.get(Company, portal_id)
    assert company is not None
    return await make_user(core, company, email, role=Role.SUPPORT, name="Sam Support")


async def assign(core: Core, installation: Installation, user: User) -> None:
    async with core.tx() as db:
        db.add(
            InstallationAssignment(
                installation_id=installation.id, user_id=user.id, assigned_at=core.now()
            )
        )


async def open_ticket(
    core: Core, customer: User, installation: Installation, text: str = "It is stuck.", **kw: str
) -> int:
    """A ticket the customer opens (as the customer area's form does)."""
    ticket = await tickets.create_ticket(
        core,
        customer.id,
        tickets.NewTicket(
            installation_id=installation.id,
            kind=kw.get("kind", "contact"),
            description=text,
            device_serial=kw.get("serial", ""),
        ),
    )
    return ticket.id


@dataclass
class Shop:
    """Company A (administrator, installer assigned to the box, installer who is not) and B."""

    company: Company
    admin: User
    installer: User
    other_installer: User
    box: Box
    other_company: Company
    other_admin: User
    other_box: Box


async def shop(core: Core) -> Shop:
    company = await make_company(core, "Acme Installers")
    other = await make_company(core, "Rival Installers")
    admin = await make_user(core, company, "boss@acme.example", role=Role.ADMIN, name="Boss")
    installer = await make_user(core, company, "ivan@acme.example", name="Ivan")
    other_installer = await make_user(core, company, "olga@acme.example", name="Olga")
    other_admin = await make_user(core, other, "boss@rival.example", role=Role.ADMIN)
    box = await linked_box(core, company, "Villa Hana")
    other_box = await linked_box(
        core, other, "Rival house", email="rival-home@example.com", pin="9999-8888-7777"
    )
    await assign(core, box.installation, installer)
    return Shop(company, admin, installer, other_installer, box, other, other_admin, other_box)
