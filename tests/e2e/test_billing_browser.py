"""A homeowner's services in real Chromium on a phone, as Somfy Protect's "My services" does.

Subscribe through every step (the explanation, the options of the recording, the offer of the
services not taken yet, the summary, the billing address and the terms, "Pay X and
subscribe", the confirmation); cancel a service while another paid one runs (credited);
cancel the last paid one at the end of the period (its end date in red), reactivate it (the
date gone, the invoices unchanged), cancel it now; then the invoice, whose page, list and
downloaded PDF show the amount the button asked. Every page passes the crawl's checks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import re

from playwright.sync_api import Browser, Page, expect

from companion_server.core import Core
from tests.companion.billing_common import world
from tests.companion.helpers import PASSWORD
from tests.companion.invoicing_common import add_seller, pdf_text
from tests.e2e.conftest_portal import Portal, portal, run_with_browser
from tests.e2e.page_checks import VIEWPORTS, problems
from tests.e2e.portal_world import run_in_portal_db

__all__ = ["portal"]

# Backup connection (2.99 €) and 7 days of recording on 2 cameras (2 x 4.99 €), 20 % VAT
# rounded per line: 0.60 € + 2.00 €.
TOTAL = "€15.57"
Check = Callable[[str | re.Pattern[str]], None]


async def _world(core: Core) -> tuple[str, int]:
    w = await world(core)
    await add_seller(core, w.company.id)
    return w.customer.email, w.installation.id


def test_subscribe_cancel_reactivate_and_the_invoice(portal: Portal) -> None:
    email, installation_id = run_in_portal_db(portal.database_url, _world)
    run_with_browser(lambda browser: _scenario(portal, browser, email, installation_id))


def _scenario(portal: Portal, browser: Browser, email: str, installation_id: int) -> None:
    failures: list[str] = []
    context = browser.new_context(
        viewport=VIEWPORTS["phone"], locale="en-US", accept_downloads=True
    )
    page = context.new_page()

    def checked(url: str | re.Pattern[str]) -> None:
        expect(page).to_have_url(url)
        failures.extend(f"{page.url}: {problem}" for problem in problems(page))

    services = f"{portal.url}/customer/services/{installation_id}"
    page.goto(portal.url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/customer$"))
    page.get_by_role("link", name="My services").click()
    checked(services)
    expect(page.get_by_role("link", name="Change payment method")).to_have_count(0)

    _subscribe(page, services, checked)
    _cancel_with_another_paid_service(page, services, checked)
    _cancel_at_period_end_and_reactivate(page, services, checked)
    _cancel_now(page, services, checked)
    _invoice(page, checked)
    context.close()
    assert failures == []


def _subscribe(page: Page, services: str, checked: Check) -> None:
    """Backup connection, then the offer: 7 days of recording on 2 cameras; then pay."""
    page.get_by_role("link", name="Backup connection").click()
    checked(f"{services}/items/backup")
    expect(page.get_by_text("A mobile connection takes over")).to_be_visible()
    page.get_by_role("link", name="Subscribe").click()
    checked(re.compile(r"/offer\?cart=&add=backup$"))
    offered = page.locator("li.service strong")
    expect(offered).to_have_text(
        [
            "Continuous recording, 7 days",
            "Continuous recording, 30 days",
            "Professional monitoring",
        ]
    )
    page.get_by_role("link", name="Add Continuous recording, 7 days").click()
    checked(re.compile(r"/items/recording_7d\?cart=backup$"))
    page.get_by_role("link", name="Subscribe").click()
    checked(re.compile(r"/options\?cart=backup$"))
    page.get_by_label("Continuous recording, 7 days").check()
    page.get_by_label("Cameras to record").select_option("2")
    page.get_by_role("button", name="Continue").click()
    # The other duration is not offered any more: one recording at a time.
    checked(re.compile(r"/offer\?"))
    expect(offered).to_have_text(["Professional monitoring"])
    page.get_by_role("link", name="Continue without adding").click()
    checked(re.compile(r"/summary\?cart=backup(%2C|,)recording_7d(\*|%2A)2$"))
    expect(page.locator("dl.totals")).to_contain_text(TOTAL)
    page.get_by_role("link", name="Pay", exact=True).click()
    checked(re.compile(r"/pay\?cart="))
    page.get_by_label("Street and number").fill("1 rue de la Paix")
    page.get_by_label("Postcode").fill("75002")
    page.get_by_label("City").fill("Paris")
    page.get_by_label("Country (two letters, such as FR)").fill("FR")
    pay = page.get_by_role("button", name=f"Pay {TOTAL} and subscribe")
    # Without the terms: the form again, filled in, and nothing subscribed.
    pay.click()
    expect(page.get_by_text("Accept the terms of sale to subscribe.")).to_be_visible()
    checked(re.compile(r"/pay$"))
    expect(page.get_by_label("City")).to_have_value("Paris")
    page.get_by_label("I accept the terms of sale").check()
    pay.click()
    checked(re.compile(r"/confirmed\?ids=\d+,\d+$"))
    expect(page.get_by_role("status").locator("li.service strong")).to_have_text(
        ["Backup connection", "Continuous recording, 7 days"]
    )
    page.get_by_role("link", name="My services").last.click()
    checked(services)
    expect(page.get_by_role("link", name="Change payment method")).to_be_visible()


def _cancel_with_another_paid_service(page: Page, services: str, checked: Check) -> None:
    """The backup connection still runs: the recording stops now, credited."""
    page.get_by_role("link", name="Continuous recording, 7 days").click()
    checked(f"{services}/items/recording_7d")
    page.get_by_role("link", name="Cancel this service").click()
    checked(re.compile(r"/customer/subscriptions/\d+/cancel$"))
    expect(page.get_by_text("the unused time is credited on your next invoice")).to_be_visible()
    expect(page.get_by_role("radio")).to_have_count(0)
    page.get_by_role("button", name="Cancel this service").click()
    checked(re.compile(r"/cancelled$"))
    expect(page.get_by_role("status")).to_contain_text("is cancelled and has stopped")
    page.get_by_role("link", name="My services").last.click()
    checked(services)


def _cancel_at_period_end_and_reactivate(page: Page, services: str, checked: Check) -> None:
    """The last paid service: at the end of the period, its date in red; then reactivated."""
    invoices_before = _invoice_rows(page)
    page.goto(f"{services}/items/backup")
    page.get_by_role("link", name="Cancel this service").click()
    checked(re.compile(r"/cancel$"))
    at_end = page.get_by_label(re.compile(r"Cancel at the end of the period"))
    expect(at_end).to_be_checked()
    end = re.search(r"stops on (.+)\.$", page.locator("label").filter(has=at_end).inner_text())
    assert end, "no end date offered"
    page.get_by_role("button", name="Cancel this service").click()
    checked(re.compile(r"/cancelled$"))
    expect(page.get_by_role("status")).to_contain_text(f"It stops on {end.group(1)}.")
    page.get_by_role("link", name="My services").last.click()
    checked(services)
    ends = page.locator("li.service .ends")
    expect(ends).to_have_text(f"Ends on {end.group(1)}")
    red, green, blue = map(int, re.findall(r"\d+", ends.evaluate("e => getComputedStyle(e).color")))
    assert red > 150 and green < 80 and blue < 80, (red, green, blue)

    page.get_by_role("link", name="Backup connection").click()
    checked(f"{services}/items/backup")
    expect(page.locator("dd.ends")).to_have_text(end.group(1))
    page.get_by_role("button", name="Cancel the termination").click()
    checked(re.compile(r"/reactivated$"))
    expect(page.get_by_role("status")).to_contain_text("effective again within a few minutes")
    page.get_by_role("link", name="My services").last.click()
    checked(services)
    expect(page.locator(".ends")).to_have_count(0)
    expect(page.get_by_text("Ends on")).to_have_count(0)
    assert _invoice_rows(page) == invoices_before
    page.goto(services)


def _cancel_now(page: Page, services: str, checked: Check) -> None:
    """The last paid service again, now: the confirmation, and it is offered again."""
    page.get_by_role("link", name="Backup connection").click()
    page.get_by_role("link", name="Cancel this service").click()
    checked(re.compile(r"/cancel$"))
    page.get_by_label(re.compile(r"Cancel now")).check()
    page.get_by_role("button", name="Cancel this service").click()
    checked(re.compile(r"/cancelled$"))
    expect(page.get_by_role("status")).to_contain_text(
        "Backup connection is cancelled and has stopped."
    )
    page.get_by_role("link", name="My services").last.click()
    checked(services)
    expect(page.get_by_text("€2.99 per month excl. VAT")).to_be_visible()
    expect(page.get_by_role("link", name="Change payment method")).to_have_count(0)


def _invoice_rows(page: Page) -> list[str]:
    page.goto(page.url.split("/customer")[0] + "/my-invoices")
    return page.locator("table.invoices tbody tr").all_inner_texts()


def _invoice(page: Page, checked: Check) -> None:
    """The invoices stay after the cancellation; the PDF shows the amount paid."""
    page.get_by_role("navigation").get_by_role("link", name="My invoices").click()
    checked(re.compile(r"/my-invoices$"))
    rows = page.locator("table.invoices tbody tr")
    expect(rows).to_have_count(1)
    # The customer's list names who bills them (not themselves, "Billed to").
    expect(page.locator("table.invoices thead th").nth(2)).to_have_text("Seller")
    expect(rows.first.locator("td").nth(2)).to_have_text("Acme Installers SAS")
    expect(rows.first.locator("td").nth(3)).to_have_text(TOTAL)
    rows.first.get_by_role("link").first.click()
    checked(re.compile(r"/my-invoices/\d+$"))
    expect(page.locator('[data-total="gross"]')).to_have_text(TOTAL)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert TOTAL in text, text
    assert "Backup connection" in text and "Continuous recording, 7 days" in text, text
