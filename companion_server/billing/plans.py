"""Support plans (D4-D7): when one can start, and what holding one gives.

A plan starts only within 3 months of the installation's signed handover protocol, which
needs both its date and the uploaded signed document; the last allowed day is the same day
three months later (the month's last day when that month is shorter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from companion_server.billing import catalogue, periods, subscriptions
from companion_server.models import CatalogueItem, InstallationHandover, ServiceSubscription

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

PLAN_WINDOW_MONTHS: Final = 3


def last_plan_start(signed_on: date) -> date:
    """The last day a plan may start after a handover signed on ``signed_on``."""
    return periods.add_months(signed_on, PLAN_WINDOW_MONTHS, signed_on.day)


def may_start_plan(handover: InstallationHandover | None, today: date) -> bool:
    """Whether a plan can start today: a signed handover on file, at most 3 months ago."""
    if handover is None or handover.document_id is None:
        return False
    return handover.signed_on <= today <= last_plan_start(handover.signed_on)


def is_plan(code: str) -> bool:
    """Whether a catalogue code is a support plan."""
    return catalogue.OFFER_BY_CODE[code].group is catalogue.Group.PLANS


@dataclass(frozen=True, slots=True)
class PlanTerms:
    """What the installation's support plan gives: the intervention pricing reads it (D5-D6).

    Without a paid plan (Basic): no discount, no priority, remote diagnostics are paid.
    """

    code: str
    discount_basis_points: int
    priority: int

    @property
    def free_remote_diagnostics(self) -> bool:
        """Plan holders get remote diagnostics free (D6)."""
        return self.code != catalogue.BASIC


async def plan_terms(db: AsyncSession, installation_id: int, now: datetime) -> PlanTerms:
    """The terms of the paid plan running for the installation, or Basic's."""
    for sub in await subscriptions.running(db, installation_id, now):
        if is_plan(sub.code) and subscriptions.is_paid(sub):
            item = await db.get(CatalogueItem, sub.item_id)
            assert item is not None
            return PlanTerms(item.code, item.discount_basis_points, item.priority)
    return PlanTerms(catalogue.BASIC, 0, 0)


async def plan_priorities(
    db: AsyncSession, installation_ids: set[int], now: datetime
) -> dict[int, int]:
    """Each installation's queue priority from its running paid plan (0 without one)."""
    if not installation_ids:
        return {}
    rows = await db.execute(
        select(ServiceSubscription, CatalogueItem.priority)
        .join(CatalogueItem, CatalogueItem.id == ServiceSubscription.item_id)
        .where(
            ServiceSubscription.installation_id.in_(installation_ids),
            ServiceSubscription.ended_at.is_(None),
            ServiceSubscription.monthly_price_cents > 0,
            CatalogueItem.code.in_([o.code for o in catalogue.OFFERS if is_plan(o.code)]),
        )
    )
    found: dict[int, int] = {}
    for sub, priority in rows.tuples():
        if subscriptions.status_on(sub, subscriptions.today_of(sub, now)) is not (
            subscriptions.Status.ENDED
        ):
            found[sub.installation_id] = max(found.get(sub.installation_id, 0), priority)
    return found
