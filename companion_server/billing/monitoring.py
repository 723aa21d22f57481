"""Professional monitoring sold as a service: what lets the centre open cases (M1).

Where the company sells monitoring through its catalogue, an installation that a customer
account owns opens cases only while that account's monitoring subscription runs. The rule
cannot apply elsewhere, so it does not: a company that has never stored a catalogue, or an
installation no customer account owns (nobody could subscribe for it), keeps the centre as
it was, on the homeowner's subscription in Home Assistant alone. The homeowner's stop from Home
Assistant ends the service here as a cancellation from the portal would, at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.billing import home_assistant, subscriptions
from companion_server.billing.catalogue import MONITORING
from companion_server.models import CatalogueItem, CustomerInstallation

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.models import Installation, ServiceSubscription


async def _running_monitoring(
    db: AsyncSession, installation_id: int, now: datetime
) -> list[ServiceSubscription]:
    return [
        s for s in await subscriptions.running(db, installation_id, now) if s.code == MONITORING
    ]


async def allows_cases(db: AsyncSession, installation: Installation, now: datetime) -> bool:
    """Whether the installation's monitoring service lets the centre open a case."""
    sold = await db.scalar(
        select(CatalogueItem.id).where(
            CatalogueItem.company_id == installation.company_id, CatalogueItem.code == MONITORING
        )
    )
    if sold is None:
        return True
    owned = await db.scalar(
        select(CustomerInstallation.customer_id)
        .where(CustomerInstallation.installation_id == installation.id)
        .limit(1)
    )
    return owned is None or bool(await _running_monitoring(db, installation.id, now))


async def stopped_from_home_assistant(
    db: AsyncSession, installation_id: int, now: datetime
) -> bool:
    """The homeowner stopped monitoring in Home Assistant: the service ends now.

    As a cancellation from the portal: with other paid services left the unused days are
    credited, otherwise they are lost (the centre stops at once, so no period end applies).
    Home Assistant is then told its services (True when that frame was queued).
    """
    running = await _running_monitoring(db, installation_id, now)
    for sub in running:
        # One already ending at the period's end ends now as the customer area would end it:
        # reactivated, then cancelled now (the unused days credited when it is not the last).
        sub.ends_on = None
        await subscriptions.cancel(db, sub, subscriptions.CancelMode.NOW, now)
    return bool(running) and await home_assistant.queue_services(db, installation_id, now)
