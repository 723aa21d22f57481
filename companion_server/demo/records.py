"""An installation record with a location, a sub-installation, a device and a document."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.models import (
    DeviceRecord,
    Installation,
    InstallationDocument,
    InstallationPlace,
    SubInstallation,
)
from companion_server.records import ends

if TYPE_CHECKING:
    from companion_server.core import Core

DEMO_RECORD_REF = "demo-records"
# A one-page PDF: the demo installation's string plan.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
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
        record = DeviceRecord(
            installation_id=installation.id,
            sub_installation_id=garage.id,
            serial="INV-2024-0042",
            model="Inverter X",
            label="Garage inverter",
            installed_on=date(2024, 3, 1),
            created_at=now,
        )
        ends.stamp(record, company_id, "Inverter X", await ends.table_in(db, company_id))
        db.add(record)
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
