"""A support-plan holder's remote intervention, invoiced with the plan's discount (once).

Paul, a second customer of the company (``premium@demo.example``, the demo password), holds
the Premium plan on the "Premium house": taken three days ago, within three months of its
signed handover protocol, its first month invoiced. Two days ago he opened a remote-service
window; the installer changed a parameter through it and ended the intervention after 85
minutes, then came on site for 90 minutes. The administrator invoiced it the way the portal
invoices every finished intervention, so each started hour and the trip are priced less the
Premium plan's 20 %.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
import json
from typing import TYPE_CHECKING
import uuid

from sqlalchemy import select

from companion_server.billing import catalogue, charges, subscriptions
from companion_server.customers.accounts import portal_company_id
from companion_server.demo.billing import seed_handover
from companion_server.invoicing.interventions import finished_terms, invoice_intervention
from companion_server.invoicing.store import store_of
from companion_server.journal import log
from companion_server.models import (
    BillingAddress,
    CustomerInstallation,
    Installation,
    RemoteAction,
    RemoteWindow,
    Role,
    ServiceSubscription,
    User,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

PLAN_CUSTOMER = "premium@demo.example"
PLAN_HOUSE = "Premium house"
PLAN_PIN = "2468-1357-9001"
PLAN = "plan_premium"
ADDRESS = {"street": "12 Quai Saint-Antoine", "postcode": "69002", "city": "Lyon", "country": "FR"}
# What the administrator entered for the visit that followed the remote part.
ON_SITE = {"on_site_minutes": "90", "trips": "1"}
REMOTE_MINUTES = 85


async def seed_plan_intervention(core: Core, company_id: int, password_hash: str) -> None:
    """The Premium holder, their plan and an invoiced intervention (idempotent)."""
    async with core.tx() as db:
        now = core.now()
        staff = {
            user.role: user
            for user in await db.scalars(
                select(User)
                .where(
                    User.company_id == company_id,
                    User.role.in_((Role.ADMIN.value, Role.INSTALLER.value)),
                )
                .order_by(User.id.desc())
            )
        }
        admin, installer = staff.get(Role.ADMIN.value), staff.get(Role.INSTALLER.value)
        if admin is None or installer is None:
            return
        customer = await _customer(db, now, password_hash)
        house = await _house(db, now, company_id, customer)
        await seed_handover(db, core, house, now)
        await _premium(db, core, house, customer, now)
        window_id = await _intervention(db, house, installer, now)
        done, _terms = await finished_terms(db, company_id, window_id)
    if not done.invoiced:
        await invoice_intervention(core, admin, window_id, ADDRESS | ON_SITE, store_of(core))


async def _customer(db: AsyncSession, now: datetime, password_hash: str) -> User:
    customer = await db.scalar(select(User).where(User.email == PLAN_CUSTOMER))
    if customer is None:
        customer = User(
            company_id=await portal_company_id(db, now),
            email=PLAN_CUSTOMER,
            name="Paul Premium",
            role=Role.CUSTOMER.value,
            language="en",
            failed_logins=0,
            created_at=now,
            email_confirmed_at=now,
            password_hash=password_hash,
        )
        db.add(customer)
        await db.flush()
    return customer


async def _house(db: AsyncSession, now: datetime, company_id: int, customer: User) -> Installation:
    house = await db.scalar(
        select(Installation).where(
            Installation.company_id == company_id, Installation.name == PLAN_HOUSE
        )
    )
    if house is None:
        house = Installation(
            company_id=company_id,
            name=PLAN_HOUSE,
            box_pin=PLAN_PIN,
            customer_email=customer.email,
            status="pending",
            created_at=now,
        )
        db.add(house)
        await db.flush()
        db.add(
            CustomerInstallation(customer_id=customer.id, installation_id=house.id, created_at=now)
        )
    return house


async def _premium(
    db: AsyncSession, core: Core, house: Installation, customer: User, now: datetime
) -> None:
    """Premium taken three days ago, its first month invoiced to the billing address."""
    if await db.scalar(
        select(ServiceSubscription.id).where(ServiceSubscription.installation_id == house.id)
    ):
        return
    entry = await catalogue.entry(db, house.company_id, PLAN)
    await subscriptions.start(
        db,
        customer_id=customer.id,
        installation_id=house.id,
        entry=entry,
        quantity=1,
        now=now - timedelta(days=3),
    )
    if await db.get(BillingAddress, customer.id) is None:
        db.add(
            BillingAddress(customer_id=customer.id, name=customer.name, updated_at=now, **ADDRESS)
        )
    await db.flush()
    await charges.invoice_due(
        db, company_id=house.company_id, customer=customer, store=store_of(core), now=now
    )


async def _intervention(
    db: AsyncSession, house: Installation, installer: User, now: datetime
) -> int:
    """The finished window, journalled as Home Assistant reported it; its id."""
    found = await db.scalar(select(RemoteWindow.id).where(RemoteWindow.installation_id == house.id))
    if found is not None:
        return int(found)
    opened = datetime.combine((now - timedelta(days=2)).date(), time(9, 0), UTC)
    ended = opened + timedelta(minutes=REMOTE_MINUTES)
    window = RemoteWindow(
        installation_id=house.id,
        company_id=house.company_id,
        request_id=str(uuid.uuid4()),
        state="ended",
        kinds=json.dumps(["parameters"]),
        hours=2,
        until=opened + timedelta(hours=2),
        requested_by_id=installer.id,
        requested_at=opened - timedelta(minutes=5),
        changed_at=ended,
        comment="The living room shutter's end limits are set again; I come by this afternoon.",
    )
    db.add(window)
    await db.flush()
    acted = opened + timedelta(minutes=20)
    db.add(
        RemoteAction(
            installation_id=house.id,
            window_id=window.id,
            action_id=str(uuid.uuid4()),
            kind="parameters",
            payload=json.dumps({"parameter": "my_position", "value": 40}),
            summary="Living room shutter: my_position = 40",
            actor_id=installer.id,
            actor_name=installer.name,
            created_at=acted,
            ok=True,
            result_at=acted,
        )
    )
    log(db, house, window.requested_at, "window_requested", actor=installer, detail="parameters")
    log(db, house, opened, "window_granted", detail="parameters")
    log(db, house, acted, "action_parameters", actor=installer, detail="my_position = 40")
    log(db, house, acted, "action_result", detail="Living room shutter: my_position = 40: ok")
    log(db, house, ended, "intervention_ended", actor=installer, detail=window.comment)
    return window.id
