"""The browser's time zone becomes the user's at the first login (real Chromium, real JS).

``static/time_zone.js`` fills the login form's hidden field from
``Intl.DateTimeFormat().resolvedOptions().timeZone``; the profile then shows it selected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
import re

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from companion_server.core import Core, build_core
from companion_server.models import Company, Role, User
from companion_server.settings import Settings
from tests.e2e.conftest_portal import Portal, portal, run_with_browser

__all__ = ["portal"]

EMAIL = "zoe@volt.example"
PASSWORD = "volt installer secret phrase"


def _run[T](database_url: str, work: Callable[[Core], Awaitable[T]]) -> T:
    async def run() -> T:
        core = build_core(Settings(database_url=database_url, secret_key="x" * 40))
        try:
            return await work(core)
        finally:
            await core.close()

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
        return pool.submit(asyncio.run, run()).result()


async def _add_user(core: Core) -> None:
    password_hash = await core.passwords.hash(PASSWORD)
    async with core.tx() as db:
        now = core.now()
        company = Company(name="Volt", created_at=now)
        db.add(company)
        await db.flush()
        db.add(
            User(
                company_id=company.id,
                email=EMAIL,
                name="Zoé",
                password_hash=password_hash,
                role=Role.ADMIN.value,
                language="fr",
                failed_logins=0,
                created_at=now,
                email_confirmed_at=now,
            )
        )


async def _zone(core: Core) -> str | None:
    async with core.tx() as db:
        zone: str | None = await db.scalar(select(User.time_zone).where(User.email == EMAIL))
        return zone


def test_the_browsers_time_zone_is_taken_at_login(portal: Portal) -> None:
    _run(portal.database_url, _add_user)

    def scenario(browser: Browser) -> None:
        context = browser.new_context(locale="fr-FR", timezone_id="Asia/Tokyo")
        page = context.new_page()
        page.goto(portal.url + "/login")
        expect(page.locator('input[name="time_zone"]')).to_have_value("Asia/Tokyo")
        page.get_by_label("Adresse e-mail").fill(EMAIL)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page).to_have_url(re.compile(r"/installations$"))
        assert _run(portal.database_url, _zone) == "Asia/Tokyo"
        page.goto(portal.url + "/profile")
        expect(page.get_by_label("Fuseau horaire")).to_have_value("Asia/Tokyo")
        context.close()

    run_with_browser(scenario)
