"""The walkthrough's ticket story: a customer account, a ticket, the installer's answer, help.

Called from ``walkthrough.py`` after the monitoring-centre story (the box is still linked):
the homeowner asks Home Assistant for a customer account, opens the invitation the portal
e-mails (the demo outbox), chooses a password and creates a ticket in the customer area; the
installer answers it in the portal (a public comment, "Waiting for the customer"); Home
Assistant shows the answer as a notification; the installation's Tickets tab lists it; the
help pages find the article about tickets, on a desktop and a phone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

# A plain import: ``walkthrough`` imports this module while it is itself being imported (the
# names are read when the story runs, once both are loaded).
import walkthrough

if TYPE_CHECKING:
    from walkthrough import Walkthrough

DESCRIPTION = "The living room shutter stops half way since the storm."
ANSWER = "We come on Tuesday morning; please leave the shutter down until then."


def customer_account(walk: Walkthrough) -> None:
    """Home Assistant asks the portal for an invitation."""
    home = walk.homeowner
    walk.step("homeowner", "Configure > Customer account on the portal")
    walk.integration_page()
    home.get_by_role("button", name="Configure").click()
    home.get_by_text("Customer account on the portal", exact=True).click()
    home.get_by_role("button", name="Submit").click()
    # On a demo that already ran the story, the invitation mailed earlier is still valid.
    sent = "The portal e-mailed you an invitation|You already have a customer account"
    expect(home.get_by_text(re.compile(sent))).to_be_visible()
    walk.shot(home, "ha-customer-account")
    home.get_by_role("button", name="Close").last.click()


def accept_invitation(walk: Walkthrough, customer: Page) -> None:
    """The link of the mail (the demo outbox): a name and a password."""
    walk.step("homeowner", "opens the invitation and chooses a password")
    mail = walk.outbox_mail("Your customer account on the Somfy Pro portal", walkthrough.CUSTOMER)
    found = re.search(r"/customer-invitation/[\w-]+", mail.inner_text())
    assert found, "no invitation link in the mail"
    customer.goto(f"{walkthrough.PORTAL}{found.group(0)}")
    customer.get_by_label("Your name").fill("Claire Dupont")
    customer.get_by_label("Password", exact=True).fill(walkthrough.PORTAL_PASSWORD)
    customer.get_by_label("Password again").fill(walkthrough.PORTAL_PASSWORD)
    customer.get_by_role("button", name="Create my account").click()
    expect(customer).to_have_url(re.compile(r"/customer$"))


def open_ticket(walk: Walkthrough, page: Page) -> None:
    """The customer area's form: a contact request about the installation."""
    walk.step("homeowner", "customer area > Create a ticket")
    page.get_by_role("link", name="Create a ticket").first.click()
    page.get_by_label("Contact request").check()
    page.get_by_label("Describe your request").fill(DESCRIPTION)
    walk.shot(page, "portal-customer-new-ticket")
    page.get_by_role("button", name="Send the ticket").click()
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()


def answer(walk: Walkthrough) -> None:
    """The installer finds the ticket, answers in public and waits for the customer."""
    page = walk.installer
    walk.step("installer", "Tickets: answers in public, status Waiting for the customer")
    page.goto(f"{walkthrough.PORTAL}/tickets")
    page.get_by_role("row").filter(has_text="Claire Dupont").get_by_role("link").first.click()
    page.get_by_label("Comment").fill(ANSWER)
    page.get_by_label("Time spent (minutes)").fill("5")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text(ANSWER)).to_be_visible()
    page.get_by_label("Status").select_option(label="Waiting for the customer")
    page.get_by_role("button", name="Change the status").click()
    expect(page.get_by_label("Status")).to_have_value("waiting")
    walk.shot(page, "portal-ticket-answer", full_page=True)

    home = walk.homeowner
    walk.step("homeowner", "the new status arrives as a notification in Home Assistant")
    walk.integration_page()
    home.get_by_text("Notifications", exact=True).click()
    expect(home.get_by_text(re.compile(r"Ticket T-\d+: Waiting for you")).first).to_be_visible()
    walk.shot(home, "ha-ticket-answered")
    home.keyboard.press("Escape")


def tab_and_help(walk: Walkthrough) -> None:
    """The installation's Tickets tab; the help's search, on a desktop and a phone."""
    page = walk.installer
    walk.step("installer", "the installation's Tickets tab")
    walk.installation("/tickets")
    expect(page.get_by_role("heading", name="Open tickets")).to_be_visible()
    walk.shot(page, "portal-installation-tickets")

    walk.step("installer", "Help: searches for 'ticket'")
    for screen in (page, walk.phone):
        screen.goto(f"{walkthrough.PORTAL}/help")
        screen.get_by_label("Search the help").fill("ticket")
        screen.get_by_role("button", name="Search").click()
        expect(screen.locator('li[data-article="tickets"]')).to_be_visible()
    walk.shot(page, "portal-help-search")
    walk.phone_shot("portal-help-search", full_page=True)


def run(walk: Walkthrough) -> None:
    """The whole ticket story."""
    customer = walk.new_page()
    try:
        customer_account(walk)
        accept_invitation(walk, customer)
        open_ticket(walk, customer)
        answer(walk)
        tab_and_help(walk)
    finally:
        customer.context.close()
