"""Demo services: the catalogue, a handover protocol, the demo customer's recording.

The company's catalogue is stored at the seeds' prices; the demo house gets a handover
protocol signed a month ago (so a support plan can still start) and its owner a continuous
recording on two cameras, once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.billing import catalogue, periods, subscriptions
from companion_server.demo.customers import DEMO_HOUSE
from companion_server.demo.records import DEMO_PDF
from companion_server.models import (
    CustomerInstallation,
    Installation,
    InstallationDocument,
    InstallationHandover,
    ServiceSubscription,
)

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


async def seed_demo_services(core: Core, company_id: int) -> None:
    """Store the catalogue and give the demo customer one running service (idempotent)."""
    async with core.tx() as db:
        await _seed(db, core, company_id, core.now())


async def _seed(db: AsyncSession, core: Core, company_id: int, now: datetime) -> None:
    entries = {e.offer.code: e for e in await catalogue.entries(db, company_id, create=True)}
    house = await db.scalar(
        select(Installation).where(
            Installation.company_id == company_id, Installation.name == DEMO_HOUSE
        )
    )
    if house is None:
        return
    owner = await db.scalar(
        select(CustomerInstallation.customer_id).where(
            CustomerInstallation.installation_id == house.id
        )
    )
    if owner is None:
        return
    await seed_handover(db, core, house, now)
    if await db.scalar(
        select(ServiceSubscription.id).where(ServiceSubscription.installation_id == house.id)
    ):
        return
    await subscriptions.start(
        db,
        customer_id=owner,
        installation_id=house.id,
        entry=entries["recording_7d"],
        quantity=2,
        now=now,
    )


async def seed_handover(db: AsyncSession, core: Core, house: Installation, now: datetime) -> None:
    """A signed protocol a month old, uploaded: the support plans can still start (D7)."""
    if await db.get(InstallationHandover, house.id) is not None:
        return
    profile = await catalogue.profile(db, house.company_id, create=True)
    stored = secrets.token_hex(16)
    await asyncio.to_thread(_store, Path(core.settings.documents_dir) / stored)
    document = InstallationDocument(
        installation_id=house.id,
        stored_name=stored,
        title="Handover protocol.pdf",
        kind="pdf",
        size=len(DEMO_PDF),
        uploaded_at=now,
    )
    db.add(document)
    await db.flush()
    db.add(
        InstallationHandover(
            installation_id=house.id,
            signed_on=periods.local_date(now - timedelta(days=30), profile.time_zone),
            document_id=document.id,
            recorded_at=now,
        )
    )


def _store(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(DEMO_PDF)
