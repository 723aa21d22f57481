"""Fixtures of the end-to-end tests where every piece is real and runs in one event loop.

The box simulator over HTTPS, Home Assistant (the test harness) with the integration set up
on it, the installer portal app with its SQLite database delivering mail over SMTP to an
aiosmtpd server, and headless Chromium (Playwright's async API) for the installer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
import re

from aiosmtpd.controller import Controller
from playwright.async_api import Browser, Page, async_playwright, expect
import pytest

from companion_server.accounts.operator import create_admin
from tests.e2e.conftest_portal import CHROMIUM_ARGS, Mailbox
from tests.integration.conftest import (
    allow_localhost,
    auto_enable_custom_integrations,
    init_integration,
    mock_config_entry,
    no_backoff_wait,
    simulator,
)
from tests.portal_app import Portal, free_port

__all__ = [
    "allow_localhost",
    "auto_enable_custom_integrations",
    "init_integration",
    "mock_config_entry",
    "no_backoff_wait",
    "simulator",
]

ADMIN_EMAIL = "lea@alpes-domotique.example"
PASSWORD = "alpes domotique secret"
COMPANY = "Alpes Domotique"
CUSTOMER = "dupont@example.com"
CODE_RE = re.compile(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1 (its own thread, stopped before the test ends)."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
async def portal(tmp_path: Path, mailbox: Mailbox) -> AsyncIterator[Portal]:
    """The portal on a temporary SQLite file, mailing through ``mailbox``, with an admin."""
    portal = Portal(
        tmp_path / "portal.db",
        settings={
            "mail_worker": True,
            "mail_poll_seconds": 0.2,
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "smtp_tls": "none",
            "smtp_timeout": 5.0,
        },
    )
    await portal.start()
    await create_admin(
        portal.core, company_name=COMPANY, name="Léa", email=ADMIN_EMAIL, password=PASSWORD
    )
    try:
        yield portal
    finally:
        await portal.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium of the system (Playwright's download does not work here)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def installer(browser: Browser, portal: Portal) -> AsyncIterator[Page]:
    """The installer's page, logged in to the portal; no script or CSP error allowed."""
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(portal.url + "/login")
    await page.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/installations$"))
    try:
        yield page
    finally:
        await context.close()
    assert errors == []
