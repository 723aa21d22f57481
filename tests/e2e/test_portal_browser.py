"""The installer portal in a real browser (headless Chromium through Playwright).

Sign up a company, confirm through the mailed link, log in, invite a colleague who accepts
on a phone-sized screen, assign an installation, delete the colleague: their session ends.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import re

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from companion_server.core import build_core
from companion_server.installations.services import create_installation
from companion_server.models import User
from companion_server.settings import Settings
from tests.e2e.conftest_portal import Portal, browser, playwright_instance, portal

__all__ = ["browser", "playwright_instance", "portal"]

ADMIN_EMAIL = "claire@volt.example"
COLLEAGUE_EMAIL = "marc@volt.example"
PASSWORD = "volt admin secret phrase"
COLLEAGUE_PASSWORD = "a colleague's secret phrase"


def _add_installation(database_url: str, admin_email: str, name: str) -> None:
    """Register an installation directly (box registration comes with a later feature)."""

    async def add() -> None:
        core = build_core(Settings(database_url=database_url, secret_key="x" * 40))
        try:
            async with core.tx() as db:
                admin = await db.scalar(select(User).where(User.email == admin_email))
                assert admin is not None
                company_id = admin.company_id
            await create_installation(
                core,
                company_id,
                name=name,
                box_pin="1234-5678-9012",
                customer_email="home@example.com",
            )
        finally:
            await core.close()

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
        pool.submit(asyncio.run, add()).result()


def _no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_sign_up_invite_assign_delete(portal: Portal, browser: Browser) -> None:
    console_errors: list[str] = []
    admin_context = browser.new_context(locale="en-US")
    admin = admin_context.new_page()
    admin.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    # Sign up: the first person of the company becomes its administrator.
    admin.goto(portal.url + "/")
    expect(admin).to_have_url(re.compile(r"/login$"))
    admin.get_by_role("link", name="Register your company").click()
    admin.get_by_label("Company name").fill("Volt Installations")
    admin.get_by_label("Your name").fill("Claire")
    admin.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    admin.get_by_label("Password", exact=True).fill(PASSWORD)
    admin.get_by_label("Password again").fill(PASSWORD)
    admin.get_by_role("button", name="Register").click()
    expect(admin.get_by_role("heading", name="Check your mailbox")).to_be_visible()

    # Confirm through the mailed link.
    confirmation = portal.mailbox.wait_for(ADMIN_EMAIL)
    assert confirmation["Subject"] == "Confirm your registration on the installer portal"
    admin.goto(portal.mailbox.link(confirmation))
    admin.get_by_role("button", name="Activate my account").click()
    expect(admin.get_by_role("status")).to_have_text(
        "Your e-mail address is confirmed. You can log in now."
    )

    # Log in.
    admin.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    expect(admin).to_have_url(re.compile(r"/installations$"))
    expect(admin.get_by_text("No installation yet.")).to_be_visible()

    # Invite a colleague, in French.
    admin.get_by_role("navigation").get_by_role("link", name="Team").click()
    admin.get_by_label("E-mail address").fill(COLLEAGUE_EMAIL)
    admin.get_by_label("Language of the portal and e-mails").select_option("fr")
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.get_by_role("status")).to_have_text("The invitation is sent.")
    expect(admin.get_by_text(COLLEAGUE_EMAIL)).to_be_visible()

    # The colleague accepts on a phone.
    invitation = portal.mailbox.wait_for(COLLEAGUE_EMAIL)
    assert invitation["Subject"] == "Volt Installations vous invite sur le portail installateur"
    phone_context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="fr-FR"
    )
    phone = phone_context.new_page()
    phone.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    phone.goto(portal.mailbox.link(invitation))
    expect(phone.get_by_role("heading", name="Rejoindre Volt Installations")).to_be_visible()
    assert _no_horizontal_scroll(phone)
    phone.get_by_label("Votre nom").fill("Marc")
    phone.get_by_label("Mot de passe", exact=True).fill(COLLEAGUE_PASSWORD)
    phone.get_by_label("Confirmation du mot de passe").fill(COLLEAGUE_PASSWORD)
    phone.get_by_role("button", name="Créer mon compte").click()
    expect(phone.get_by_role("status")).to_have_text("Bienvenue ! Votre compte est prêt.")
    expect(phone.get_by_text("Aucune installation ne vous est encore attribuée.")).to_be_visible()
    assert _no_horizontal_scroll(phone)

    # The administrator assigns an installation to him.
    _add_installation(portal.database_url, ADMIN_EMAIL, "Villa Dupont")
    admin.get_by_role("navigation").get_by_role("link", name="Installations").click()
    admin.get_by_role("link", name="Villa Dupont").click()
    admin.get_by_label("Assign to").select_option(label=f"Marc ({COLLEAGUE_EMAIL})")
    admin.get_by_role("button", name="Assign", exact=True).click()
    expect(admin.get_by_role("status")).to_have_text("The installation is assigned.")
    expect(admin.locator(f'[data-assignee="{COLLEAGUE_EMAIL}"]')).to_be_visible()
    phone.reload()
    expect(phone.get_by_role("link", name="Villa Dupont")).to_be_visible()

    # The administrator deletes him: his session ends at once, and he is told by mail.
    admin.get_by_role("navigation").get_by_role("link", name="Team").click()
    admin.locator(f'tr[data-member="{COLLEAGUE_EMAIL}"]').get_by_role(
        "button", name="Delete"
    ).click()
    expect(admin.get_by_role("status")).to_have_text(
        "The collaborator is deleted and has lost access."
    )
    expect(admin.locator(f'tr[data-member="{COLLEAGUE_EMAIL}"]')).to_have_count(0)
    phone.reload()
    expect(phone).to_have_url(re.compile(r"/login\?next="))
    notice = portal.mailbox.wait_for(COLLEAGUE_EMAIL, lambda m: "accès" in m["Subject"])
    assert notice["Subject"] == "Votre accès au portail installateur a pris fin"

    # Nothing was blocked by the Content-Security-Policy, no script errors.
    assert console_errors == []
    phone_context.close()
    admin_context.close()
