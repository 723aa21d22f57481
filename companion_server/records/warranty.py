"""Warranty per device: from its install date and the months the company gives its model.

The company keeps a table model -> months (administrators edit it); a device's warranty
ends that many months after it was installed. What ends within
``settings.warranty_notice_days`` is listed per installation and for the whole company.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.errors import NotFound, ValidationFailed
from companion_server.models import (
    Device,
    DeviceRecord,
    Installation,
    InstallationAssignment,
    WarrantyTerm,
)
from companion_server.parsing import parse_int
from companion_server.records.services import clean_text
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from companion_server.core import Core

MAX_MONTHS = 600
MAX_TERMS = 500


@dataclass(frozen=True, slots=True)
class Expiring:
    """A device whose warranty ends soon."""

    installation_id: int
    installation_name: str
    label: str
    serial: str
    model: str
    ends_on: date
    days_left: int


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


async def term_table(core: Core, company_id: int) -> dict[str, int]:
    """The company's months per model (models compared without case)."""
    async with core.tx() as db:
        rows = await db.execute(
            select(WarrantyTerm.model, WarrantyTerm.months).where(
                WarrantyTerm.company_id == company_id
            )
        )
        return {model.casefold(): months for model, months in rows.tuples()}


async def terms(core: Core, actor_id: int) -> list[WarrantyTerm]:
    """The company's warranty table, by model (administrators)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        return list(
            await db.scalars(
                select(WarrantyTerm)
                .where(WarrantyTerm.company_id == actor.company_id)
                .order_by(WarrantyTerm.model)
            )
        )


async def save_term(core: Core, actor_id: int, values: dict[str, str]) -> None:
    """Set the months of warranty of a model (a new row or a changed one)."""
    errors: dict[str, str] = {}
    model = clean_text(values.get("model", ""), "model", errors, limit=100, required=True)
    months = parse_int(values.get("months", "").strip(), 1, MAX_MONTHS)
    if months is None:
        errors["months"] = "Enter a number of months between 1 and 600."
    if errors or months is None:
        raise ValidationFailed(errors)
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        existing = list(
            await db.scalars(
                select(WarrantyTerm).where(WarrantyTerm.company_id == actor.company_id)
            )
        )
        same = [t for t in existing if t.model.casefold() == model.casefold()]
        if same:
            same[0].months = months
            return
        if len(existing) >= MAX_TERMS:
            raise ValidationFailed({"model": "The warranty table is full."})
        db.add(WarrantyTerm(company_id=actor.company_id, model=model, months=months))


async def delete_term(core: Core, actor_id: int, term_id: int) -> None:
    """Remove a model from the warranty table."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        term = await db.get(WarrantyTerm, term_id)
        if term is None or term.company_id != actor.company_id:
            raise NotFound()
        await db.delete(term)


async def expiring(core: Core, actor_id: int, installation_id: int | None = None) -> list[Expiring]:
    """Devices whose warranty ends within the notice period, soonest first.

    Over the installations the user sees (administrators: the company's; installers: theirs),
    or over one of them.
    """
    today = core.now().date()
    horizon = today + timedelta(days=core.settings.warranty_notice_days)
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        query = (
            select(DeviceRecord, Installation.name, Device.label, Device.url, Device.ui_class)
            .join(Installation, Installation.id == DeviceRecord.installation_id)
            .outerjoin(Device, Device.id == DeviceRecord.device_id)
            .where(
                Installation.company_id == actor.company_id,
                DeviceRecord.installed_on.is_not(None),
            )
        )
        if not actor.is_admin:
            query = query.join(
                InstallationAssignment,
                (InstallationAssignment.installation_id == Installation.id)
                & (InstallationAssignment.user_id == actor.id),
            )
        if installation_id is not None:
            query = query.where(Installation.id == installation_id)
        rows = (await db.execute(query)).tuples().all()
        table = {
            t.model.casefold(): t.months
            for t in await db.scalars(
                select(WarrantyTerm).where(WarrantyTerm.company_id == actor.company_id)
            )
        }
    found = []
    for record, name, device_label, device_url, ui_class in rows:
        model = (ui_class or "") if record.device_id is not None else (record.model or "")
        ends = warranty_end(record.installed_on, model, table)
        if ends is None or not today <= ends <= horizon:
            continue
        label = device_label if record.device_id is not None else record.label
        serial = device_url if record.device_id is not None else record.serial
        found.append(
            Expiring(
                record.installation_id,
                name,
                label or model,
                serial or "",
                model,
                ends,
                (ends - today).days,
            )
        )
    return sorted(found, key=lambda e: (e.ends_on, e.installation_name, e.label))
