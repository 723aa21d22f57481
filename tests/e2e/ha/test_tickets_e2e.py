"""A ticket end to end, all real: created in HA, answered and closed in Chromium, seen in HA.

The box is linked -> the homeowner asks for a customer account in the integration's options
-> the invitation arrives by e-mail and the homeowner creates the account in the browser ->
``somfy_pro.create_ticket`` from HA (with diagnostics) -> the installer finds it in the
portal's ticket list, answers publicly -> HA fires ``somfy_pro_ticket`` and the to-do item
shows the answer -> the installer closes it -> HA fires the closure and the item is gone.
"""

from __future__ import annotations

import re

from homeassistant.core import HomeAssistant
from playwright.async_api import Browser, Page, expect
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.tickets import EVENT_TICKET
from tests.e2e.conftest_portal import Mailbox
from tests.integration.common import ticket_items
from tests.integration.portal_common import wait_until
from tests.portal_app import Portal

from .conftest import CUSTOMER
from .test_monitoring_e2e import register_and_link

LINK_RE = re.compile(r"https?://\S+/customer-invitation/\S+")
HOMEOWNER_PASSWORD = "shutters in the sunshine"


async def _accept_invitation(browser: Browser, mailbox: Mailbox) -> None:
    mail = await mailbox.arrival(CUSTOMER, lambda m: "customer account" in str(m["Subject"]))
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    match = LINK_RE.search(body)
    assert match, body
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await page.goto(match.group(0))
    await page.get_by_label("Your name").fill("Jeanne Dupont")
    await page.get_by_label("Password", exact=True).fill(HOMEOWNER_PASSWORD)
    await page.get_by_label("Password again").fill(HOMEOWNER_PASSWORD)
    await page.get_by_role("button", name="Create my account").click()
    await expect(page).to_have_url(re.compile(r"/customer$"))
    await context.close()


async def test_ticket_from_home_assistant_answered_and_closed_in_the_portal(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    portal: Portal,
    mailbox: Mailbox,
    browser: Browser,
    installer: Page,
) -> None:
    entry, page = init_integration, installer
    await register_and_link(hass, entry, page, portal, mailbox)

    # The homeowner asks for a customer account from the integration's options.
    options = hass.config_entries.options
    menu = await options.async_init(entry.entry_id)
    form = await options.async_configure(menu["flow_id"], {"next_step_id": "customer_account"})
    done = await options.async_configure(form["flow_id"], {})
    assert done["reason"] == "invitation_sent"
    await _accept_invitation(browser, mailbox)

    answer = await hass.services.async_call(
        DOMAIN,
        "create_ticket",
        {"description": "The living-room shutter stops half-way.", "include_diagnostics": True},
        blocking=True,
        return_response=True,
    )
    assert isinstance(answer, dict)
    number = answer["number"]
    await wait_until(hass, lambda: entry.runtime_data.tickets.tickets, "the list of tickets")
    (item,) = await ticket_items(hass)
    assert item["summary"] == f"{number}: The living-room shutter stops half-way."

    # The installer finds it in the portal and answers it publicly.
    events = async_capture_events(hass, EVENT_TICKET)
    await page.get_by_role("link", name="Tickets").first.click()
    await page.get_by_role("link", name=number).click()
    await expect(page.get_by_text("Sent from Home Assistant.")).to_be_visible()
    await page.get_by_label("Comment").fill("I come on Monday morning.")
    await page.get_by_role("button", name="Add").click()
    await expect(page.locator('[data-comment="public"]').last).to_contain_text(
        "I come on Monday morning."
    )
    await wait_until(hass, lambda: events, "the answer in HA")
    assert events[0].data["change"] == "answer"
    assert events[0].data["comment"] == "I come on Monday morning."
    (item,) = await ticket_items(hass)
    assert "I come on Monday morning." in item["description"]

    # Closed in the portal: HA hears of it and the item leaves the list.
    await page.get_by_label("Status").select_option("closed")
    await page.get_by_role("button", name="Change the status").click()
    await wait_until(hass, lambda: any(e.data["status"] == "closed" for e in events), "closure")
    closure = next(e for e in events if e.data["status"] == "closed")
    assert (closure.data["number"], closure.data["change"]) == (number, "status")
    assert await ticket_items(hass) == []
