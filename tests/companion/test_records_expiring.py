"""Warranties ending soon: the stored end, the company's list by pages, its period filter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
import re

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, select

from companion_server.core import Core
from companion_server.db import alembic_config
from companion_server.models import DeviceRecord, WarrantyTerm
from companion_server.records.ends import add_months
from tests.companion.helpers import BrowserFactory
from tests.companion.records_common import Two, settings, two_companies

__all__ = ["settings"]

MONTHS = 12


async def _term(two: Two) -> None:
    page = await two.admin.post("/records/warranty", {"model": "Inverter X", "months": "12"})
    assert page.status == 303


def _installed_for(ends: date) -> date:
    """An install date whose 12-month warranty ends on ``ends`` (not the 29th-31st)."""
    day = add_months(ends, -MONTHS)
    assert add_months(day, MONTHS) == ends
    return day


async def _add(two: Two, installation_id: int, serial: str, ends: date) -> None:
    page = await two.admin.post(
        f"/installations/{installation_id}/records/devices",
        {"serial": serial, "model": "inverter x", "installed_on": _installed_for(ends).isoformat()},
    )
    assert page.status == 303, page.text


def _serials(text: str) -> list[str]:
    return re.findall(r'data-expiring="([^"]*)"', text)


def _next(text: str) -> str | None:
    found = re.search(r'href="(/records/expiring\?[^"]*)" rel="next"', text)
    return None if found is None else found.group(1).replace("&amp;", "&")


async def _bulk(core: Core, installation_id: int, company_id: int, days: list[int]) -> None:
    """Devices on file ending ``days`` from today, written as the pages write them."""
    from companion_server.records.ends import stamp, table_in

    today = core.now().date()
    async with core.tx() as db:
        table = await table_in(db, company_id)
        for n, day in enumerate(days):
            record = DeviceRecord(
                installation_id=installation_id,
                serial=f"BULK-{n:03d}",
                model="Inverter X",
                installed_on=add_months(today + timedelta(days=day), -MONTHS),
                created_at=core.now(),
            )
            stamp(record, company_id, "Inverter X", table)
            db.add(record)


async def _company_of(core: Core, installation_id: int) -> int:
    from companion_server.models import Installation

    async with core.tx() as db:
        company_id = await db.scalar(
            select(Installation.company_id).where(Installation.id == installation_id)
        )
    assert company_id is not None
    return company_id


async def test_pages_of_fifty_soonest_first(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    await _term(two)
    company = await _company_of(core, two.own)
    # 120 devices over the next 60 days (two a day), given out of order.
    days = [(n * 37) % 60 for n in range(60)] * 2
    await _bulk(core, two.own, company, days)
    seen: list[str] = []
    ends_seen: list[str] = []
    url: str | None = "/records/expiring"
    pages = 0
    while url is not None:
        page = await two.admin.get(url)
        assert page.status == 200
        serials = _serials(page.text)
        assert len(serials) <= 50
        seen += serials
        ends_seen += re.findall(r"ends on (\S+), in", page.text)
        url = _next(page.text)
        pages += 1
    assert pages == 3 and len(seen) == 120 and len(set(seen)) == 120
    assert ends_seen == sorted(ends_seen)
    # The installer sees the installation assigned to them, the same rows.
    page = await two.installer.get("/records/expiring")
    assert len(_serials(page.text)) == 50


async def test_period_filter_and_other_companies(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    await _term(two)
    today = core.now().date()
    await _add(two, two.own, "SOON-1", today + timedelta(days=10))
    await _add(two, two.unassigned, "LATE-1", today + timedelta(days=200))
    await _add(two, two.own, "ENDED-1", today - timedelta(days=3))
    # Company B has the same model, its device ends tomorrow: never in company A's list.
    page = await two.other.post("/records/warranty", {"model": "Inverter X", "months": "12"})
    assert page.status == 303
    page = await two.other.post(
        f"/installations/{two.other_installation}/records/devices",
        {
            "serial": "RIVAL-1",
            "model": "Inverter X",
            "installed_on": _installed_for(today + timedelta(days=1)).isoformat(),
        },
    )
    assert page.status == 303
    page = await two.admin.get("/records/expiring")
    assert _serials(page.text) == ["SOON-1"]
    page = await two.admin.get("/records/expiring?days=365")
    assert _serials(page.text) == ["SOON-1", "LATE-1"]
    assert '<option value="365" selected>' in page.text
    # A period the list does not offer is the notice period (60 days in these settings).
    page = await two.admin.get("/records/expiring?days=99999999999999999999")
    assert page.status == 200 and _serials(page.text) == ["SOON-1"]
    page = await two.other.get("/records/expiring?days=365")
    assert _serials(page.text) == ["RIVAL-1"]
    # The installer sees only the installation assigned to them.
    page = await two.installer.get("/records/expiring?days=365")
    assert _serials(page.text) == ["SOON-1"]


async def test_table_changes_move_the_stored_ends(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    today = core.now().date()
    await _add(two, two.own, "LATER", today + timedelta(days=20))  # no term yet
    assert _serials((await two.admin.get("/records/expiring")).text) == []
    await _term(two)
    assert _serials((await two.admin.get("/records/expiring")).text) == ["LATER"]
    # 24 months: it ends a year later, out of the list.
    assert (
        await two.admin.post("/records/warranty", {"model": "INVERTER X", "months": "24"})
    ).status == 303
    assert _serials((await two.admin.get("/records/expiring")).text) == []
    async with core.tx() as db:
        [(ends, company)] = (
            await db.execute(select(DeviceRecord.warranty_ends_on, DeviceRecord.company_id))
        ).all()
    assert ends == add_months(today + timedelta(days=20), 12)
    assert company == await _company_of(core, two.own)
    # Editing the device's install date moves its end too.
    async with core.tx() as db:
        record_id = await db.scalar(select(DeviceRecord.id))
    page = await two.admin.post(
        f"/installations/{two.own}/records/devices/{record_id}",
        {
            "serial": "LATER",
            "model": "Inverter X",
            "installed_on": add_months(today + timedelta(days=5), -24).isoformat(),
        },
    )
    assert page.status == 303, page.text
    assert _serials((await two.admin.get("/records/expiring")).text) == ["LATER"]


async def test_bad_cursors_open_the_first_page(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    await _term(two)
    await _add(two, two.own, "SOON-1", core.now().date() + timedelta(days=10))
    for cursor in ("x", "!!!", "WyJub3QgYSBkYXkiLDFd", "WzEsMl0", "a" * 3000):
        page = await two.admin.get("/records/expiring", params={"after": cursor})
        assert page.status == 200 and _serials(page.text) == ["SOON-1"], cursor


def _alembic(connection: Connection, step: Callable[[Config, str], None], revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    step(cfg, revision)


async def test_revision_stores_the_ends_of_existing_devices(
    core: Core, browsers: BrowserFactory
) -> None:
    two = await two_companies(core, browsers)
    await _term(two)
    ends = core.now().date() + timedelta(days=10)
    await _add(two, two.own, "SOON-1", ends)
    async with core.engine.begin() as conn:
        await conn.run_sync(_alembic, command.downgrade, "0020")
    async with core.engine.begin() as conn:
        await conn.run_sync(_alembic, command.upgrade, "head")
    async with core.tx() as db:
        [(stored, company)] = (
            await db.execute(select(DeviceRecord.warranty_ends_on, DeviceRecord.company_id))
        ).all()
        assert await db.scalar(select(WarrantyTerm.months)) == 12
    assert (stored, company) == (ends, await _company_of(core, two.own))


async def test_imported_devices_are_listed(core: Core, browsers: BrowserFactory) -> None:
    from tests.companion.test_records_import import _import

    two = await two_companies(core, browsers)
    await _term(two)
    day = _installed_for(core.now().date() + timedelta(days=7)).isoformat()
    content = (
        "reference,name,customer_email,street,city,latitude,longitude,sub_installations,devices\n"
        f"MP-1,Imported house,,,,,,,IMP-1;Inverter X;{day};|IMP-2;Meter;{day};\n"
    )
    status, _ = await _import(two.admin, content.encode())
    assert status == 200
    # The meter has no warranty term: it has no end and is not listed.
    assert _serials((await two.admin.get("/records/expiring")).text) == ["IMP-1"]


async def test_box_products_by_their_class(core: Core, browsers: BrowserFactory) -> None:
    from companion_server.models import Device

    two = await two_companies(core, browsers)
    page = await two.admin.post("/records/warranty", {"model": "rollershutter", "months": "12"})
    assert page.status == 303
    async with core.tx() as db:
        product = Device(
            installation_id=two.own,
            url="io://1234-5678-9012/42",
            label="Living room shutter",
            protocol="io",
            ui_class="RollerShutter",
            updated_at=core.now(),
        )
        db.add(product)
        await db.flush()
        product_id = product.id
    ends = core.now().date() + timedelta(days=15)
    page = await two.admin.post(
        f"/installations/{two.own}/records/box-devices/{product_id}",
        {"installed_on": _installed_for(ends).isoformat(), "sub_installation_id": ""},
    )
    assert page.status == 303
    page = await two.admin.get("/records/expiring")
    assert _serials(page.text) == ["io://1234-5678-9012/42"]
    assert "Living room shutter" in page.text and f"ends on {ends.isoformat()}" in page.text
