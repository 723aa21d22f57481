"""Warranties ending soon: the company's list in pages of 50, and one installation's.

Both read the stored end (records/ends.py). The company's list is a keyset page over the
``(company_id, warranty_ends_on, id)`` index, soonest first: a page costs the same whatever
its position and however many devices the company has on file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from companion_server.keyset import after_key, decode_cursor, encode_cursor, split_page
from companion_server.models import Device, DeviceRecord, Installation, InstallationAssignment
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import Select

    from companion_server.core import Core

PAGE_SIZE: Final = 50
# The periods offered besides the configured notice (``warranty_notice_days``).
PERIODS: Final = (30, 90, 180, 365)


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


@dataclass(frozen=True, slots=True)
class ExpiringQuery:
    """The period (days from today) and where the page starts."""

    days: int
    after: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str], notice_days: int) -> ExpiringQuery:
        """From query parameters; an unknown period is the notice, a bad cursor the start."""
        raw = params.get("days", "")
        days = int(raw) if raw.isdigit() and int(raw) in periods(notice_days) else notice_days
        return cls(days, params.get("after") or None)


@dataclass(frozen=True, slots=True)
class ExpiringPage:
    """One page of the list and where the next one starts."""

    rows: list[Expiring]
    next_after: str | None


def periods(notice_days: int) -> list[int]:
    """The periods the list offers, shortest first."""
    return sorted({*PERIODS, notice_days})


def _query(today: date, horizon: date) -> Select[Any]:
    return (
        select(
            DeviceRecord.id,
            DeviceRecord.installation_id,
            DeviceRecord.warranty_ends_on,
            DeviceRecord.device_id,
            DeviceRecord.label,
            DeviceRecord.serial,
            DeviceRecord.model,
            Installation.name,
            Device.label,
            Device.url,
            Device.ui_class,
        )
        .join(Installation, Installation.id == DeviceRecord.installation_id)
        .outerjoin(Device, Device.id == DeviceRecord.device_id)
        .where(DeviceRecord.warranty_ends_on.between(today, horizon))
    )


def _rows(found: Any, today: date) -> list[Expiring]:
    rows = []
    for _, installation_id, ends, device_id, label, serial, model, name, d_label, url, ui in found:
        if device_id is not None:
            label, serial, model = d_label, url, ui
        rows.append(
            Expiring(
                installation_id,
                name,
                label or model or "",
                serial or "",
                model or "",
                ends,
                (ends - today).days,
            )
        )
    return rows


async def expiring_page(core: Core, actor_id: int, query: ExpiringQuery) -> ExpiringPage:
    """The devices whose warranty ends within the period, soonest first, one page.

    Over the installations the user sees (administrators: the company's; installers: theirs).
    """
    today = core.now().date()
    start = decode_cursor(query.after, str)
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        stmt = _query(today, today + timedelta(days=query.days)).where(
            DeviceRecord.company_id == actor.company_id
        )
        if not actor.is_admin:
            stmt = stmt.join(
                InstallationAssignment,
                (InstallationAssignment.installation_id == DeviceRecord.installation_id)
                & (InstallationAssignment.user_id == actor.id),
            )
        if start is not None:
            try:
                day = date.fromisoformat(start[0])
            except ValueError:
                day = None
            if day is not None:
                stmt = stmt.where(
                    after_key(DeviceRecord.warranty_ends_on, DeviceRecord.id, (day, start[1]))
                )
        stmt = stmt.order_by(DeviceRecord.warranty_ends_on, DeviceRecord.id).limit(PAGE_SIZE + 1)
        found, last = split_page((await db.execute(stmt)).all(), PAGE_SIZE)
    return ExpiringPage(
        _rows(found, today),
        None if last is None else encode_cursor(last[2].isoformat(), last[0]),
    )


async def of_installation(core: Core, actor_id: int, installation_id: int) -> list[Expiring]:
    """The devices of one installation whose warranty ends within the notice, soonest first.

    The caller has checked that the user sees the installation.
    """
    today = core.now().date()
    horizon = today + timedelta(days=core.settings.warranty_notice_days)
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        stmt = (
            _query(today, horizon)
            .where(
                DeviceRecord.installation_id == installation_id,
                Installation.company_id == actor.company_id,
            )
            .order_by(DeviceRecord.warranty_ends_on, DeviceRecord.id)
        )
        return _rows((await db.execute(stmt)).all(), today)
