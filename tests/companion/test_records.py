"""Installation records: location and map, sub-installations, devices on file, warranty."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web
from sqlalchemy import select

from companion_server.core import Core
from companion_server.models import Device, DeviceRecord, InstallationPlace, InstallationState
from companion_server.records.ends import add_months
from companion_server.settings import Settings, SettingsError
from tests.companion.helpers import BrowserFactory
from tests.companion.records_common import settings, two_companies

__all__ = ["settings"]


async def _records(core: Core, installation_id: int) -> list[DeviceRecord]:
    async with core.tx() as db:
        return list(
            await db.scalars(
                select(DeviceRecord)
                .where(DeviceRecord.installation_id == installation_id)
                .order_by(DeviceRecord.id)
            )
        )


async def test_location_is_checked_and_shown_without_a_map(
    core: Core, browsers: BrowserFactory
) -> None:
    two = await two_companies(core, browsers)
    base = f"/installations/{two.own}/records"
    page = await two.admin.get(base)
    assert page.status == 200 and "No location yet." in page.text
    page = await two.admin.post(base + "/place", {"latitude": "91", "longitude": "17.1"})
    assert page.status == 400 and "Enter a latitude between -90 and 90." in page.text
    page = await two.admin.post(base + "/place", {"latitude": "48.1", "longitude": ""})
    assert page.status == 400 and "Enter both the latitude and the longitude" in page.text
    page = await two.admin.post(base + "/place", {"latitude": "nan", "longitude": "inf"})
    assert page.status == 400
    async with core.tx() as db:
        assert await db.get(InstallationPlace, two.own) is None
    # Translated: the installer reads French.
    await two.installer.post("/profile", {"name": "Fitter", "language": "fr"})
    page = await two.installer.post(base + "/place", {"latitude": "x", "longitude": "1"})
    assert page.status == 400 and "Saisissez une latitude entre -90 et 90." in page.text
    page = await two.admin.post(
        base + "/place",
        {"street": "Hlavná 1", "city": "Košice", "latitude": "48,7164", "longitude": "21.2611"},
    )
    assert page.status == 303
    page = await two.admin.get(base)
    assert "Latitude 48.7164, longitude 21.2611" in page.text and "Hlavná 1, Košice" in page.text
    # No tile URL: the plain coordinates view, no Leaflet on the page.
    assert "No map is set up" in page.text and "leaflet.js" not in page.text
    # Another company's installation, an installer's unassigned one: not found.
    for client, installation in ((two.other, two.own), (two.installer, two.unassigned)):
        url = f"/installations/{installation}/records"
        assert (await client.get(url)).status == 404
        page = await client.post(url + "/place", {"latitude": "1", "longitude": "1"})
        assert page.status == 404


async def test_map_from_local_leaflet_and_configured_tiles(
    database_url: str, tmp_path: object, browsers: BrowserFactory, core: Core, app: web.Application
) -> None:
    two = await two_companies(core, browsers)
    await two.admin.post(
        f"/installations/{two.own}/records/place", {"latitude": "48.1", "longitude": "17.1"}
    )
    # The app of this test has no tile URL; one with tiles is built on the same database.
    from aiohttp.test_utils import TestServer

    from companion_server.app import create_app

    tiled = create_app(
        core.settings.replace(
            map_tile_url="https://tiles.example/{z}/{x}/{y}.png", map_tile_attribution="© Tiles"
        )
    )
    server = TestServer(tiled, host="127.0.0.1")
    await server.start_server()
    try:
        client = BrowserFactory(str(server.make_url("/")).rstrip("/"))
        browser = await client.new()
        await browser.login("boss@acme.example")
        page = await browser.get(f"/installations/{two.own}/records")
        assert 'src="/static/leaflet/leaflet.js"' in page.text
        assert 'data-tiles="https://tiles.example/{z}/{x}/{y}.png"' in page.text
        assert (
            "img-src 'self' data: https://tiles.example;" in page.headers["Content-Security-Policy"]
        )
        script = await browser.get("/static/leaflet/leaflet.js")
        assert script.status == 200 and "Leaflet" in script.text
        await client.close()
    finally:
        await server.close()


def test_tile_url_setting_is_checked() -> None:
    for bad in ("ftp://tiles/{z}/{x}/{y}", "https://tiles.example/tile.png"):
        try:
            Settings(map_tile_url=bad)
        except SettingsError:
            continue
        raise AssertionError(bad)
    tiles = Settings(map_tile_url="https://{s}.tile.example/{z}/{x}/{y}.png")
    assert tiles.map_tile_origin == "https://*.tile.example"


async def test_sub_installations_and_hand_devices(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    base = f"/installations/{two.own}/records"
    assert (await two.installer.post(base + "/subs", {"name": "  House "})).status == 303
    assert (await two.installer.post(base + "/subs", {"name": "garage"})).status == 303
    page = await two.installer.post(base + "/subs", {"name": "HOUSE"})
    assert page.status == 400 and "already has a part of that name" in page.text
    assert (await two.installer.post(base + "/subs", {"name": ""})).status == 400
    page = await two.installer.get(base)
    assert 'data-sub="House"' in page.text and 'data-sub="garage"' in page.text
    async with core.tx() as db:
        from companion_server.models import SubInstallation

        subs = {
            s.name: s.id
            for s in await db.scalars(
                select(SubInstallation).where(SubInstallation.installation_id == two.own)
            )
        }
    device = {
        "serial": "SN-123",
        "model": "Inverter X",
        "label": "Roof",
        "installed_on": "2024-05-01",
        "sub_installation_id": str(subs["garage"]),
    }
    page = await two.installer.post(base + "/devices", {**device, "serial": ""})
    assert page.status == 400 and "This field is required." in page.text
    page = await two.installer.post(base + "/devices", {**device, "installed_on": "01.05.2024"})
    assert page.status == 400 and "Enter a date as YYYY-MM-DD." in page.text
    assert await _records(core, two.own) == []
    assert (await two.installer.post(base + "/devices", device)).status == 303
    [record] = await _records(core, two.own)
    assert (record.serial, record.model, record.sub_installation_id) == (
        "SN-123",
        "Inverter X",
        subs["garage"],
    )
    assert record.installed_on == date(2024, 5, 1)
    page = await two.installer.get(base)
    assert 'data-serial="SN-123"' in page.text and "added by hand" in page.text
    # A part of another installation is refused.
    other_sub = await two.other.post(
        f"/installations/{two.other_installation}/records/subs", {"name": "Shed"}
    )
    assert other_sub.status == 303
    async with core.tx() as db:
        shed = await db.scalar(select(SubInstallation.id).where(SubInstallation.name == "Shed"))
    page = await two.installer.post(
        base + f"/devices/{record.id}", {**device, "sub_installation_id": str(shed)}
    )
    assert page.status == 400 and "Choose one of this installation" in page.text
    page = await two.installer.post(
        base + f"/devices/{record.id}", {**device, "model": "Inverter Y", "sub_installation_id": ""}
    )
    assert page.status == 303
    [record] = await _records(core, two.own)
    assert record.model == "Inverter Y" and record.sub_installation_id is None
    # The other company cannot touch it, through its own installation's URL either.
    for url in (base, f"/installations/{two.other_installation}/records"):
        page = await two.other.post(url + f"/devices/{record.id}/delete")
        assert page.status == 404
    assert len(await _records(core, two.own)) == 1
    # Removing a part keeps its devices, unassigned.
    await two.installer.post(base + f"/devices/{record.id}", device)
    assert (await two.installer.post(base + f"/subs/{subs['garage']}/delete")).status == 303
    [record] = await _records(core, two.own)
    assert record.sub_installation_id is None
    assert (await two.installer.post(base + f"/devices/{record.id}/delete")).status == 303
    assert await _records(core, two.own) == []


async def test_devices_need_an_existing_installation(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    page = await two.admin.post(
        "/installations/999999/records/devices", {"serial": "S", "model": "M"}
    )
    assert page.status == 404
    async with core.tx() as db:
        assert list(await db.scalars(select(DeviceRecord))) == []


async def test_box_products_from_home_assistant(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    async with core.tx() as db:
        db.add(InstallationState(installation_id=two.own, monitoring="granted", connected=False))
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
    base = f"/installations/{two.own}/records"
    page = await two.admin.get(base)
    assert "Living room shutter" in page.text and "on the box" in page.text
    await two.admin.post(base + "/subs", {"name": "House"})
    page = await two.admin.post(
        base + f"/box-devices/{product_id}",
        {"installed_on": "2025-01-31", "sub_installation_id": ""},
    )
    assert page.status == 303
    [record] = await _records(core, two.own)
    assert record.device_id == product_id and record.installed_on == date(2025, 1, 31)
    page = await two.other.post(
        f"/installations/{two.other_installation}/records/box-devices/{product_id}",
        {"installed_on": "2025-01-31"},
    )
    assert page.status == 404
    # Serv-e-go revoked: the box's products are no longer shown.
    async with core.tx() as db:
        state = await db.get(InstallationState, two.own)
        assert state is not None
        state.monitoring = "revoked"
    page = await two.admin.get(base)
    assert "Living room shutter" not in page.text


def test_months_are_added_to_the_last_day() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 11, 15), 14) == date(2025, 1, 15)


async def test_warranty_table_and_what_expires(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    assert (await two.installer.get("/records/warranty")).status == 403
    page = await two.admin.post("/records/warranty", {"model": "Inverter X", "months": "0"})
    assert page.status == 400 and "between 1 and 600" in page.text
    assert (
        await two.admin.post("/records/warranty", {"model": "Inverter X", "months": "24"})
    ).status == 303
    assert (
        await two.admin.post("/records/warranty", {"model": "inverter x", "months": "12"})
    ).status == 303
    page = await two.admin.get("/records/warranty")
    assert "12 months" in page.text and "24 months" not in page.text
    today = core.now().date()
    soon = today - timedelta(days=365) + timedelta(days=30)
    late = today - timedelta(days=365) + timedelta(days=200)
    for installation, serial, day in (
        (two.own, "SOON-1", soon),
        (two.own, "LATER-1", late),
        (two.unassigned, "SOON-2", soon),
    ):
        page = await two.admin.post(
            f"/installations/{installation}/records/devices",
            {"serial": serial, "model": "Inverter X", "installed_on": day.isoformat()},
        )
        assert page.status == 303
    page = await two.admin.get("/records/expiring")
    assert 'data-expiring="SOON-1"' in page.text and 'data-expiring="SOON-2"' in page.text
    assert "LATER-1" not in page.text
    # The installer sees only their installations; the installation's tab only its own.
    page = await two.installer.get("/records/expiring")
    assert 'data-expiring="SOON-1"' in page.text and "SOON-2" not in page.text
    page = await two.admin.get(f"/installations/{two.own}/records")
    assert 'data-expiring="SOON-1"' in page.text and "SOON-2" not in page.text
    assert (await two.other.get("/records/expiring")).text.count("data-expiring") == 0
    async with core.tx() as db:
        from companion_server.models import WarrantyTerm

        term_id = await db.scalar(select(WarrantyTerm.id))
    assert (await two.other.post(f"/records/warranty/{term_id}/delete")).status == 404
    assert (await two.admin.post(f"/records/warranty/{term_id}/delete")).status == 303
    page = await two.admin.get("/records/expiring")
    assert "data-expiring" not in page.text


async def test_demo_has_an_installation_with_records(core: Core, browsers: BrowserFactory) -> None:
    from companion_server.demo import DEMO_PASSWORD, seed_demo

    await seed_demo(core)
    await seed_demo(core)  # idempotent
    async with core.tx() as db:
        [place] = list(await db.scalars(select(InstallationPlace)))
    browser = await browsers.new()
    assert (await browser.login("admin@demo.example", DEMO_PASSWORD)).status == 303
    page = await browser.get(f"/installations/{place.installation_id}/records")
    assert "Latitude 48.7164, longitude 21.2611" in page.text and 'data-sub="Garáž"' in page.text
    page = await browser.get(f"/installations/{place.installation_id}/documents")
    assert 'data-document="String plan.pdf"' in page.text
    [link] = [
        line.split('"')[1]
        for line in page.text.splitlines()
        if "/documents/" in line and "download" in line
    ]
    assert (await browser.get(link)).status == 200
