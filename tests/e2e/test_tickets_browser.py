"""A ticket in real browsers: Home Assistant asks for the customer account, the homeowner
creates a ticket, the installer answers publicly (and internally) and changes its status,
and the homeowner gets the mail (a real SMTP server) and sees the answer, not the note.

The portal runs as a process; the homeowner's browser is phone-sized (390 px) and its pages
pass the same checks as the accessibility crawl.
"""

from __future__ import annotations

import json
import re
from urllib.request import Request, urlopen

from playwright.sync_api import Browser, Page, expect

from companion_server.core import Core
from companion_server.models import Role
from tests.companion.helpers import PASSWORD, make_company, make_user
from tests.companion.tickets_common import assign, linked_box
from tests.e2e.conftest_portal import Mailbox, Portal, portal, run_with_browser
from tests.e2e.page_checks import VIEWPORTS, problems
from tests.e2e.portal_world import run_in_portal_db

__all__ = ["portal"]

HOME_EMAIL = "hana@example.com"
INSTALLER_EMAIL = "ivan@acme.example"


def test_a_ticket_from_the_customer_area_to_its_answer(portal: Portal) -> None:
    token = run_in_portal_db(portal.database_url, _world)
    request = Request(
        portal.url + "/api/v1/customer-invitation",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urlopen(request, timeout=10) as response:
        assert response.status == 202 and json.load(response) == {"result": "sent"}
    run_with_browser(lambda browser: _scenario(portal, browser))


async def _world(core: Core) -> str:
    company = await make_company(core, "Acme Installers")
    installer = await make_user(core, company, INSTALLER_EMAIL, role=Role.INSTALLER, name="Ivan")
    box = await linked_box(core, company, "Villa Hana", email=HOME_EMAIL, language="en")
    await assign(core, box.installation, installer)
    return box.token


def _checked(page: Page, failures: list[str]) -> None:
    failures.extend(f"{page.url}: {problem}" for problem in problems(page))


def _scenario(portal: Portal, browser: Browser) -> None:
    failures: list[str] = []
    home = browser.new_context(viewport=VIEWPORTS["phone"], locale="en-US").new_page()
    invitation = portal.mailbox.wait_for(HOME_EMAIL)
    home.goto(Mailbox.link(invitation))
    _checked(home, failures)
    home.get_by_label("Your name").fill("Hana Homeowner")
    home.get_by_label("Password", exact=True).fill(PASSWORD)
    home.get_by_label("Password again").fill(PASSWORD)
    home.get_by_label("Password again").press("Enter")
    expect(home).to_have_url(re.compile(r"/customer$"))
    expect(home.get_by_role("heading", name="Villa Hana")).to_be_visible()
    _checked(home, failures)

    # The homeowner creates a ticket by keyboard.
    home.get_by_role("link", name="Create a ticket").click()
    expect(home).to_have_url(re.compile(r"/customer/tickets/new$"))
    _checked(home, failures)
    home.get_by_label("Device replacement").check()
    home.get_by_label("Serial number of the device").fill("SN-0042")
    home.get_by_label("Describe your request").fill("The kitchen remote no longer works.")
    home.get_by_role("button", name="Send the ticket").focus()
    home.keyboard.press("Enter")
    expect(home).to_have_url(re.compile(r"/customer/tickets/\d+$"))
    number = home.get_by_role("heading", level=1).inner_text().split()[-1]
    assert re.fullmatch(r"T-\d{6}", number), number

    # The installer finds it by serial number, answers and changes the status.
    staff = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-US").new_page()
    staff.goto(portal.url + "/login")
    staff.get_by_label("E-mail address").fill(INSTALLER_EMAIL)
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    staff.goto(portal.url + "/tickets?q=SN-0042")
    staff.get_by_role("link", name=number).click()
    expect(staff).to_have_url(re.compile(r"/tickets/\d+$"))
    _checked(staff, failures)
    staff.get_by_label("Comment").fill("Spare part ordered from the warehouse.")
    staff.get_by_label("Internal: staff only").check()
    staff.get_by_label("Time spent (minutes)").fill("10")
    staff.get_by_role("button", name="Add").click()
    staff.get_by_label("Comment").fill("A new remote is on its way; I come on Monday.")
    staff.get_by_label("Public: the customer sees it").check()
    staff.get_by_role("button", name="Add").click()
    staff.get_by_label("Status", exact=True).select_option("waiting")
    staff.get_by_role("button", name="Change the status").click()
    expect(staff.get_by_role("status")).to_contain_text("the customer is informed")
    expect(staff.locator("[data-minutes]")).to_have_text("10 min")

    # The homeowner gets the mail and sees the answer, never the internal note.
    mail = portal.mailbox.wait_for(HOME_EMAIL, lambda m: number in str(m["Subject"]))
    assert mail["Subject"] == f"Ticket {number}: Waiting for the customer"
    home.goto(Mailbox.link(mail))
    expect(home.get_by_text("A new remote is on its way; I come on Monday.")).to_be_visible()
    expect(home.locator("[data-status]").first).to_have_text("Waiting for the customer")
    assert "Spare part ordered" not in home.content()
    _checked(home, failures)
    assert failures == []
