"""The browser's time zone becomes the user's at the first login (real Chromium, real JS).

``static/time_zone.js`` fills the login form's hidden field from
``Intl.DateTimeFormat().resolvedOptions().timeZone``; the profile then shows it selected.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from companion_server.core import Core
from companion_server.models import User
from tests.e2e.conftest_portal import Portal, add_admin, portal, run_on_core, run_with_browser

__all__ = ["portal"]

EMAIL = "zoe@volt.example"
PASSWORD = "volt installer secret phrase"


async def _add_user(core: Core) -> None:
    await add_admin(core, company="Volt", email=EMAIL, name="Zoé", password=PASSWORD, language="fr")


async def _zone(core: Core) -> str | None:
    async with core.tx() as db:
        zone: str | None = await db.scalar(select(User.time_zone).where(User.email == EMAIL))
        return zone


def test_the_browsers_time_zone_is_taken_at_login(portal: Portal) -> None:
    run_on_core(portal.database_url, _add_user)

    def scenario(browser: Browser) -> None:
        context = browser.new_context(locale="fr-FR", timezone_id="Asia/Tokyo")
        page = context.new_page()
        page.goto(portal.url + "/login")
        expect(page.locator('input[name="time_zone"]')).to_have_value("Asia/Tokyo")
        page.get_by_label("Adresse e-mail").fill(EMAIL)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page).to_have_url(re.compile(r"/installations$"))
        assert run_on_core(portal.database_url, _zone) == "Asia/Tokyo"
        page.goto(portal.url + "/profile")
        expect(page.get_by_label("Fuseau horaire")).to_have_value("Asia/Tokyo")
        context.close()

    run_with_browser(scenario)
