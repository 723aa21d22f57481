"""The warranty's end stored on each device on file, and how it is computed.

The end is the install date plus the months the company's warranty table gives the
device's model. It is stored (``device_records.warranty_ends_on``, beside the installation's
company) wherever one of its sources changes: the record's install date or model
(:func:`stamp`), the company's table (:func:`restamp_company`); the lists of warranties
ending soon read it from an index.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from companion_server.models import Device, DeviceRecord, Installation, WarrantyTerm

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def warranty_end(installed_on: date | None, model: str, terms: dict[str, int]) -> date | None:
    """When the warranty of a device ends (None: no install date or no term for its model)."""
    months = terms.get(model.casefold())
    if installed_on is None or months is None:
        return None
    return add_months(installed_on, months)


async def table_in(db: AsyncSession, company_id: int) -> dict[str, int]:
    """The company's months per model (models compared without case)."""
    rows = await db.execute(
        select(WarrantyTerm.model, WarrantyTerm.months).where(WarrantyTerm.company_id == company_id)
    )
    return {model.casefold(): months for model, months in rows.tuples()}


def stamp(record: DeviceRecord, company_id: int, model: str, table: dict[str, int]) -> None:
    """Store on a record written now its company and its warranty's end.

    ``model`` is the device's model: the box product's class, or the one typed for a
    device added by hand.
    """
    record.company_id = company_id
    record.warranty_ends_on = warranty_end(record.installed_on, model, table)


async def restamp_company(db: AsyncSession, company_id: int) -> None:
    """Store again the warranty's end of the company's records after its table changed.

    Only the rows whose end moves are written; rows an older portal wrote without their
    company or end get them here too.
    """
    table = await table_in(db, company_id)
    rows = await db.execute(
        select(
            DeviceRecord.id,
            DeviceRecord.installed_on,
            DeviceRecord.device_id,
            DeviceRecord.model,
            Device.ui_class,
            DeviceRecord.company_id,
            DeviceRecord.warranty_ends_on,
        )
        .join(Installation, Installation.id == DeviceRecord.installation_id)
        .outerjoin(Device, Device.id == DeviceRecord.device_id)
        .where(Installation.company_id == company_id, DeviceRecord.installed_on.is_not(None))
    )
    changed = []
    for record_id, installed_on, device_id, model, ui_class, stored_company, ends in rows:
        name = (ui_class if device_id is not None else model) or ""
        new_end = warranty_end(installed_on, name, table)
        if new_end != ends or stored_company != company_id:
            changed.append({"id": record_id, "company_id": company_id, "warranty_ends_on": new_end})
    if changed:
        await db.execute(update(DeviceRecord), changed)
