"""Installation records in real Chromium on a phone: a part, a device, a document's life."""

from __future__ import annotations

from pathlib import Path
import re

from playwright.sync_api import Browser, expect

from companion_server.core import Core
from companion_server.models import Installation
from tests.e2e.conftest_portal import Portal, add_admin, portal, run_on_core, run_with_browser
from tests.e2e.page_checks import VIEWPORTS, problems

__all__ = ["portal"]

EMAIL = "ema@records.example"
PASSWORD = "records installer secret"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


async def _world(core: Core) -> int:
    company_id = await add_admin(
        core, company="Records Co", email=EMAIL, name="Ema", password=PASSWORD, language="en"
    )
    async with core.tx() as db:
        installation = Installation(
            company_id=company_id, name="Villa Records", status="pending", created_at=core.now()
        )
        db.add(installation)
        await db.flush()
        return installation.id


def test_records_on_a_phone(portal: Portal, tmp_path: Path) -> None:
    installation_id = run_on_core(portal.database_url, _world)
    records = f"{portal.url}/installations/{installation_id}/records"
    plan = tmp_path / "String plan.pdf"
    plan.write_bytes(PDF)

    def scenario(browser: Browser) -> None:
        context = browser.new_context(viewport=VIEWPORTS["phone"], accept_downloads=True)
        page = context.new_page()
        page.goto(portal.url + "/login")
        page.get_by_label("E-mail address").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(r"/installations$"))
        page.goto(records)
        assert problems(page) == []
        # A sub-installation.
        page.get_by_label("New sub-installation (e.g. house, garage)").fill("Garage")
        page.get_by_role("button", name="Add the sub-installation").click()
        expect(page.locator("[data-sub='Garage']")).to_be_visible()
        # A device that is not on the box, in the garage.
        page.get_by_text("Add a device that is not on the box").click()
        page.locator("#new-serial").fill("INV-7")
        page.locator("#new-model").fill("Inverter X")
        page.locator("#new-part").select_option(label="Garage")
        page.locator("#new-installed").fill("2024-03-01")
        page.get_by_role("button", name="Add the device").click()
        device = page.locator("[data-serial='INV-7']")
        expect(device).to_contain_text("Garage")
        expect(device).to_contain_text("2024-03-01")
        assert problems(page) == []
        # A document: upload, listed, downloaded, deleted.
        page.get_by_role("link", name="Documents").click()
        page.get_by_label(re.compile(r"^File \(PDF")).set_input_files(str(plan))
        page.get_by_role("button", name="Upload").click()
        link = page.get_by_role("link", name="String plan.pdf")
        expect(link).to_be_visible()
        assert problems(page) == []
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename == "String plan.pdf"
        assert Path(download.path()).read_bytes() == PDF
        page.get_by_role("button", name="Delete String plan.pdf").click()
        expect(page.get_by_text("No document yet.")).to_be_visible()
        expect(page.get_by_text("The document is deleted.")).to_be_visible()
        assert problems(page) == []
        context.close()

    run_with_browser(scenario)
