"""Import of installations from a monitoring export: CSV and JSON, refused rows, twice."""

from __future__ import annotations

import json

import aiohttp
from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.models import DeviceRecord, Installation, InstallationPlace, SubInstallation
from tests.companion.helpers import BrowserFactory, PortalClient
from tests.companion.records_common import settings, two_companies

__all__ = ["settings"]

FIRST = (
    "MP-1,Rodinný dom Nováková,jana@example.sk,Hlavná 1,Košice,48.7164,21.2611,dom|garáž,"
    "SN-1;Inverter X;2024-03-01;garáž|SN-2;Meter;;\n"
)
CSV = (
    "reference,name,customer_email,street,city,latitude,longitude,sub_installations,devices\n"
    + FIRST
    + """,Chata Tatry,,Horná 5,Poprad,49.05,20.3,,
MP-3,,x@example.sk,,,,,,
MP-4,Bad mail,not-an-address,,,,,,
MP-5,Bad place,,,,95,10,,
MP-6,Bad device,,,,,,,SN-9;;2024-01-01;
MP-7,Unknown part,,,,,,dom,SN-8;M;2024-01-01;pivnica
MP-8,Bad day,,,,,,,SN-7;M;1.1.2024;
"""
)


async def _import(
    client: PortalClient, content: bytes, filename: str = "export.csv"
) -> tuple[int, str]:
    if client.csrf is None:
        await client.get("/records/import")
    form = aiohttp.FormData()
    form.add_field("csrf_token", client.csrf or "")
    form.add_field("file", content, filename=filename, content_type="text/csv")
    page = await client.request("POST", "/records/import", data=form)
    return page.status, page.text


async def _counts(core: Core) -> tuple[int, int, int, int]:
    async with core.tx() as db:
        counts = []
        for model in (Installation, InstallationPlace, SubInstallation, DeviceRecord):
            counts.append(await db.scalar(select(func.count()).select_from(model)) or 0)
        return counts[0], counts[1], counts[2], counts[3]


async def test_csv_import_reports_refused_rows_and_is_idempotent(
    core: Core, browsers: BrowserFactory
) -> None:
    two = await two_companies(core, browsers)
    before = await _counts(core)
    status, text = await _import(two.admin, CSV.encode())
    assert status == 200
    assert "2 installations imported, 0 already there and left as they are, 6 rows refused." in text
    for row, reason in (
        (3, "This field is required."),
        (4, "Enter a valid e-mail address."),
        (5, "Enter a latitude between -90 and 90."),
        (6, "This field is required."),
        (7, "A device names a part that the row does not list."),
        (8, "Enter a date as YYYY-MM-DD."),
    ):
        assert f'data-refused-row="{row}">Row {row}' in text and reason in text
    async with core.tx() as db:
        house = await db.scalar(select(Installation).where(Installation.name.like("Rodinn%")))
        assert house is not None and house.customer_email == "jana@example.sk"
        place = await db.get(InstallationPlace, house.id)
        assert place is not None and place.external_ref == "MP-1" and place.latitude == 48.7164
        subs = {
            s.name: s.id
            for s in await db.scalars(
                select(SubInstallation).where(SubInstallation.installation_id == house.id)
            )
        }
        assert set(subs) == {"dom", "garáž"}
        devices = list(
            await db.scalars(select(DeviceRecord).where(DeviceRecord.installation_id == house.id))
        )
        assert {(d.serial, d.sub_installation_id) for d in devices} == {
            ("SN-1", subs["garáž"]),
            ("SN-2", None),
        }
    after = await _counts(core)
    status, text = await _import(two.admin, CSV.encode())
    assert "0 installations imported, 2 already there and left as they are, 6 rows refused." in text
    assert await _counts(core) == after != before
    # The other company imports its own copy: nothing of company A is matched.
    status, text = await _import(two.other, CSV.encode())
    assert "2 installations imported" in text
    # Translated report.
    await two.admin.post("/profile", {"name": "Boss", "language": "sk"})
    status, text = await _import(two.admin, CSV.encode())
    assert "Odmietnuté riadky" in text and "Zadajte zemepisnú šírku od -90 do 90." in text


async def test_json_import(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    export = {
        "installations": [
            {
                "reference": "J-1",
                "name": "Villa JSON",
                "latitude": 48.1,
                "longitude": 17.1,
                "sub_installations": ["House"],
                "devices": [
                    {
                        "serial": "J-SN",
                        "model": "Battery",
                        "installed_on": "2023-02-01",
                        "part": "House",
                    }
                ],
            },
            "not an object",
            {"name": ["nested"], "devices": [{"serial": "x"}]},
        ]
    }
    status, text = await _import(two.admin, json.dumps(export).encode(), "export.json")
    assert status == 200 and "1 installations imported" in text and "3 rows refused" not in text
    assert "The row is not an installation with the expected fields." in text
    status, text = await _import(two.admin, json.dumps(export["installations"]).encode())
    assert "0 installations imported, 1 already there" in text


async def test_bad_files_are_refused_cleanly(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    before = await _counts(core)
    for content, message in (
        (b"\xff\xfe\x00garbage", "The file must be written in UTF-8."),
        (b'{"installations": [1, 2', "neither a CSV file"),
        (b'"just a string"', "neither a CSV file"),
        (b"a,b\n1,2\n", "neither a CSV file"),
        (b"name\n" + b"x\n" * 1001, "too many rows"),
        (b"name\n" + b"x" * (20 * 1024), "The file is too large."),
        (b'name,city\n"unterminated,x\n', "neither a CSV file"),
    ):
        status, text = await _import(two.admin, content)
        assert status == 400 and message in text, (content[:20], message)
    assert await _counts(core) == before
    # Installers may not import.
    status, _ = await _import(two.installer, b"name\nx\n")
    assert status == 403
    assert await _counts(core) == before
