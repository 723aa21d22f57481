"""What the homeowner's Home Assistant is told of their support plan and services.

One acknowledged frame (``docs/protocol.md``): ``services``, the whole state of the box's
plan and running services, queued after every change (a checkout, a cancellation, a
reactivation, monitoring stopped from Home Assistant, a period end reached) and on every
``hello``. It holds stable catalogue codes only: Home Assistant names them in its own
language. Only the subscriptions of the customer accounts that own the box, with the box's
company, are in it. A newer frame withdraws an older one not acknowledged yet: each carries
the whole state, so at most one waits.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, select

from companion_server.billing import catalogue, periods, plans, subscriptions
from companion_server.hub import outbox
from companion_server.models import (
    CatalogueItem,
    CustomerInstallation,
    Installation,
    InstallationLink,
    PortalFrame,
    ServiceSubscription,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

SERVICES: Final = "services"
# The period ends the maintenance sweep looks back on (a portal down longer is reconnected
# to by every box: each ``hello`` brings the state).
RECENT_ENDS: Final = timedelta(days=2)


def _period_end(sub: ServiceSubscription, today: date) -> date:
    """The end (exclusive) of the subscription's period that holds ``today``."""
    if sub.ends_on is not None:
        return sub.ends_on
    end = sub.billed_until
    while end <= today:
        end = periods.next_period_end(end, sub.anchor_day)
    while periods.period_start_of(end, sub.anchor_day) > today:
        end = periods.period_start_of(end, sub.anchor_day)
    return end


def _service(sub: ServiceSubscription, now: datetime) -> dict[str, Any]:
    today = subscriptions.today_of(sub, now)
    return {
        "code": sub.code,
        "state": subscriptions.status_on(sub, today).value,
        "started_on": sub.started_on.isoformat(),
        "period_end": _period_end(sub, today).isoformat(),
        "ends_on": None if sub.ends_on is None else sub.ends_on.isoformat(),
        "quantity": sub.quantity,
        "monthly_price_cents": sub.monthly_price_cents * sub.quantity,
    }


async def _owners(db: AsyncSession, installation_id: int) -> set[int]:
    rows = await db.scalars(
        select(CustomerInstallation.customer_id).where(
            CustomerInstallation.installation_id == installation_id
        )
    )
    return set(rows)


async def services_payload(
    db: AsyncSession, installation: Installation, now: datetime
) -> dict[str, Any]:
    """The ``services`` payload of one box: its plan, then its other running services."""
    owners = await _owners(db, installation.id)
    running = [
        sub
        for sub in await subscriptions.running(db, installation.id, now)
        if sub.customer_id in owners and sub.company_id == installation.company_id
    ]
    plan: dict[str, Any] = {
        "code": catalogue.BASIC,
        "state": subscriptions.Status.ACTIVE.value,
        "period_end": None,
        "ends_on": None,
        "monthly_price_cents": 0,
        "discount_basis_points": 0,
        "priority": 0,
    }
    services = []
    for sub in running:
        if not plans.is_plan(sub.code):
            services.append(_service(sub, now))
        elif subscriptions.is_paid(sub):
            item = await db.get(CatalogueItem, sub.item_id)
            service = _service(sub, now)
            plan = {key: service[key] for key in plan if key in service} | {
                "discount_basis_points": 0 if item is None else item.discount_basis_points,
                "priority": 0 if item is None else item.priority,
            }
    return {"at": now.isoformat(), "plan": plan, "services": services}


async def queue_services(db: AsyncSession, installation_id: int, now: datetime) -> bool:
    """Queue the box's plan and services for its Home Assistant (when linked); True if queued.

    A box no customer account owns, and without subscriptions, has nothing to show.
    """
    linked = await db.scalar(
        select(InstallationLink.id).where(
            InstallationLink.installation_id == installation_id,
            InstallationLink.revoked_at.is_(None),
        )
    )
    installation = await db.get(Installation, installation_id)
    if linked is None or installation is None:
        return False
    return await queue_for_live_link(db, installation, now)


# A customer owning the box and one of its subscriptions (None each when there is none).
HELLO_FACTS = {
    "box_owner": select(CustomerInstallation.customer_id)
    .where(CustomerInstallation.installation_id == bindparam("installation_id"))
    .limit(1)
    .scalar_subquery(),
    "services_subscription": select(ServiceSubscription.id)
    .where(ServiceSubscription.installation_id == bindparam("installation_id"))
    .limit(1)
    .scalar_subquery(),
}
_FOLLOWED = select(*HELLO_FACTS.values())


async def queue_for_live_link(
    db: AsyncSession,
    installation: Installation,
    now: datetime,
    followed: tuple[int | None, int | None] | None = None,
) -> bool:
    """Queue the plan and services of a box whose link is live (a ``hello`` came over it).

    ``followed``: the :data:`HELLO_FACTS`, when read already (with the ``hello``); they
    answer for the boxes with nothing to show (most of a restart storm's).
    """
    if followed is None:
        row = (await db.execute(_FOLLOWED, {"installation_id": installation.id})).one()
        followed = (row[0], row[1])
    owned, subscribed = followed
    if owned is None and subscribed is None:
        return False
    await db.execute(
        delete(PortalFrame).where(
            PortalFrame.installation_id == installation.id,
            PortalFrame.type == SERVICES,
            PortalFrame.acked_at.is_(None),
        )
    )
    outbox.queue_frame(
        db, installation.id, now, SERVICES, await services_payload(db, installation, now)
    )
    return True


async def frames_pending(core: Core, installation_ids: Iterable[int]) -> None:
    """After the commit: the live channels of these boxes send what was queued."""
    if core.hub is None:
        return
    for installation_id in installation_ids:
        await core.hub.frames_pending(installation_id)


def _local_midnight(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(time_zone)).astimezone(UTC)


async def queue_period_ends(core: Core) -> list[int]:
    """Tell the boxes whose service reached its end date since their last ``services`` frame.

    A service cancelled at the period's end ends with the calendar, not with a request: the
    maintenance sweep finds it. The boxes queued to.
    """
    now = core.now()
    queued: list[int] = []
    async with core.tx() as db:
        # A day ahead of UTC covers every time zone; the local day is checked below.
        candidates = await db.scalars(
            select(ServiceSubscription)
            .where(
                ServiceSubscription.ended_at.is_(None),
                ServiceSubscription.ends_on.is_not(None),
                ServiceSubscription.ends_on <= now.date() + timedelta(days=1),
                ServiceSubscription.ends_on >= now.date() - RECENT_ENDS,
            )
            .order_by(ServiceSubscription.id)
        )
        ended: dict[int, datetime] = {}
        for sub in candidates:
            assert sub.ends_on is not None
            if subscriptions.status_on(sub, subscriptions.today_of(sub, now)) is (
                subscriptions.Status.ENDED
            ):
                at = _local_midnight(sub.ends_on, sub.time_zone)
                ended[sub.installation_id] = max(at, ended.get(sub.installation_id, at))
        for installation_id, since in ended.items():
            told = await db.scalar(
                select(PortalFrame.id)
                .where(
                    PortalFrame.installation_id == installation_id,
                    PortalFrame.type == SERVICES,
                    PortalFrame.created_at >= since,
                )
                .limit(1)
            )
            if told is None and await queue_services(db, installation_id, now):
                queued.append(installation_id)
    await frames_pending(core, queued)
    return queued
