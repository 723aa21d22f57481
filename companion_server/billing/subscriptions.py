"""Subscriptions: start, the periods they are charged for, cancel (S5-S6), reactivate (S7).

A paid service is charged a month ahead, period by period. Cancelling while other paid
services stay active stops it now and credits the unused days on the next invoice;
cancelling the last paid one either stops it now (the days are lost) or at the end of the
period. Reactivating a pending cancellation only forgets the end date: no charge is written
or removed, so the invoices are as if nothing happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from companion_server.billing import catalogue, periods
from companion_server.errors import NotFound, RuleViolation
from companion_server.i18n import N_
from companion_server.invoicing.lines import ChargeLine
from companion_server.models import ServiceCharge, ServiceSubscription

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession


class Status(StrEnum):
    """Where a subscription stands on a day."""

    ACTIVE = "active"
    ENDING = "ending"  # a cancellation at the end of the period is pending
    ENDED = "ended"


class CancelMode(StrEnum):
    """The two ways to end the last paid service (S6)."""

    NOW = "now"
    PERIOD_END = "period_end"


def status_on(sub: ServiceSubscription, today: date) -> Status:
    """The subscription's status on a local day."""
    if sub.ended_at is not None or (sub.ends_on is not None and today >= sub.ends_on):
        return Status.ENDED
    return Status.ACTIVE if sub.ends_on is None else Status.ENDING


def today_of(sub: ServiceSubscription, now: datetime) -> date:
    """The local day of the subscription's time zone."""
    return periods.local_date(now, sub.time_zone)


def charges_value(charge: ServiceCharge) -> int:
    """A charge's amount excluding VAT, rounded as its invoice line is."""
    return ChargeLine(
        source=charge.source,
        description_key=charge.code,
        description_params=(),
        quantity_milli=charge.quantity_milli,
        unit_price_cents=charge.unit_price_cents,
        vat_rate_basis_points=charge.vat_rate_basis_points,
    ).net_cents


def is_paid(sub: ServiceSubscription) -> bool:
    """Whether the subscription costs anything."""
    return sub.monthly_price_cents > 0


def period_charge(sub: ServiceSubscription, start: date, now: datetime | None) -> ServiceCharge:
    """The charge of the period starting on ``start``: one month of every camera.

    Without ``now`` (a period written when invoicing asks), it is dated at the period's start.
    """
    if now is None:
        now = datetime.combine(start, time(), ZoneInfo(sub.time_zone))
    end = periods.next_period_end(start, sub.anchor_day)
    return ServiceCharge(
        source=f"subscription:{sub.id}:{start.isoformat()}",
        subscription_id=sub.id,
        company_id=sub.company_id,
        customer_id=sub.customer_id,
        code=sub.code,
        quantity_milli=sub.quantity * periods.MILLI,
        unit_price_cents=sub.monthly_price_cents,
        vat_rate_basis_points=sub.vat_rate_basis_points,
        period_start=start,
        period_end=end,
        created_at=now,
    )


async def start(
    db: AsyncSession,
    *,
    customer_id: int,
    installation_id: int,
    entry: catalogue.Entry,
    quantity: int,
    now: datetime,
) -> tuple[ServiceSubscription, ServiceCharge]:
    """Start a subscription today and write its first period's charge."""
    profile = await catalogue.profile(db, entry.item.company_id, create=True)
    today = periods.local_date(now, profile.time_zone)
    sub = ServiceSubscription(
        company_id=entry.item.company_id,
        customer_id=customer_id,
        installation_id=installation_id,
        item_id=entry.item.id,
        code=entry.item.code,
        quantity=quantity,
        monthly_price_cents=entry.item.monthly_price_cents,
        vat_rate_basis_points=profile.vat_rate_basis_points,
        time_zone=profile.time_zone,
        anchor_day=today.day,
        started_on=today,
        billed_until=periods.next_period_end(today, today.day),
        created_at=now,
    )
    db.add(sub)
    await db.flush()
    charge = period_charge(sub, today, now)
    db.add(charge)
    return sub, charge


async def charge_due_periods(
    db: AsyncSession, sub: ServiceSubscription, until: date, now: datetime | None = None
) -> None:
    """Write the charges of the periods starting on or before ``until`` (once each)."""
    while sub.billed_until <= until and status_on(sub, sub.billed_until) is not Status.ENDED:
        db.add(period_charge(sub, sub.billed_until, now))
        sub.billed_until = periods.next_period_end(sub.billed_until, sub.anchor_day)
    await db.flush()


async def of_customer(
    db: AsyncSession, customer_id: int, installation_id: int | None = None
) -> list[ServiceSubscription]:
    """The customer's subscriptions (of one installation), oldest first."""
    stmt = select(ServiceSubscription).where(ServiceSubscription.customer_id == customer_id)
    if installation_id is not None:
        stmt = stmt.where(ServiceSubscription.installation_id == installation_id)
    return list(await db.scalars(stmt.order_by(ServiceSubscription.id)))


async def running(
    db: AsyncSession, installation_id: int, now: datetime
) -> list[ServiceSubscription]:
    """The installation's subscriptions not ended today (active or ending)."""
    rows = await db.scalars(
        select(ServiceSubscription)
        .where(
            ServiceSubscription.installation_id == installation_id,
            ServiceSubscription.ended_at.is_(None),
        )
        .order_by(ServiceSubscription.id)
    )
    return [sub for sub in rows if status_on(sub, today_of(sub, now)) is not Status.ENDED]


async def other_paid_running(db: AsyncSession, sub: ServiceSubscription, now: datetime) -> bool:
    """Whether the customer keeps another paid service of the same company (S5)."""
    rows = await db.scalars(
        select(ServiceSubscription).where(
            ServiceSubscription.customer_id == sub.customer_id,
            ServiceSubscription.company_id == sub.company_id,
            ServiceSubscription.id != sub.id,
            ServiceSubscription.ended_at.is_(None),
            ServiceSubscription.monthly_price_cents > 0,
        )
    )
    return any(status_on(other, today_of(other, now)) is not Status.ENDED for other in rows)


@dataclass(frozen=True, slots=True)
class Cancelled:
    """What a cancellation did: when the service ends and the credit it earned."""

    ends_on: date
    credit_cents: int


async def cancel(
    db: AsyncSession, sub: ServiceSubscription, mode: CancelMode, now: datetime
) -> Cancelled:
    """Cancel a running subscription (S5-S6)."""
    today = today_of(sub, now)
    if status_on(sub, today) is not Status.ACTIVE:
        raise RuleViolation(N_("This service is not running."))
    await charge_due_periods(db, sub, today, now)
    if await other_paid_running(db, sub, now):
        end = sub.billed_until
        start = periods.period_start_of(end, sub.anchor_day)
        milli = periods.unused_milli(start, end, today) * sub.quantity
        sub.ends_on = today
        sub.ended_at = now
        credit = ServiceCharge(
            source=f"credit:subscription:{sub.id}",
            subscription_id=sub.id,
            company_id=sub.company_id,
            customer_id=sub.customer_id,
            code=sub.code,
            quantity_milli=milli,
            unit_price_cents=-sub.monthly_price_cents,
            vat_rate_basis_points=sub.vat_rate_basis_points,
            period_start=today,
            period_end=end,
            created_at=now,
        )
        if milli:
            db.add(credit)
        return Cancelled(today, -charges_value(credit))
    if mode is CancelMode.NOW:
        sub.ends_on = today
        sub.ended_at = now
    else:
        sub.ends_on = sub.billed_until
    return Cancelled(sub.ends_on, 0)


async def reactivate(sub: ServiceSubscription, now: datetime) -> None:
    """Cancel a pending cancellation (S7): the end date disappears, charges stay as they are."""
    if status_on(sub, today_of(sub, now)) is not Status.ENDING:
        raise RuleViolation(N_("This service is not being cancelled."))
    sub.ends_on = None


async def owned(db: AsyncSession, customer_id: int, subscription_id: int) -> ServiceSubscription:
    """One of the customer's subscriptions; NotFound for anybody else's."""
    sub = await db.get(ServiceSubscription, subscription_id, with_for_update=True)
    if sub is None or sub.customer_id != customer_id:
        raise NotFound()
    return sub
