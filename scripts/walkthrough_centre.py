"""The walkthrough's monitoring-centre story: contacts in Home Assistant, two alarms handled.

Called from ``walkthrough.py`` once the box is linked: the homeowner subscribes to
professional monitoring in the integration's options (the benefits, then what is still
missing) and sets the first contact and the postal address; the box raises an intrusion and a
fire (the simulator's control CLI); the demo operator (``operator@demo.example``) handles both
in the console, on a desktop and a phone, and Home Assistant's entities follow each case.

The intrusion: nobody answers, a message is left, the wait for a call back starts (its
countdown), the contact calls back and gives the password: a false alarm, closed. The fire:
the contact answers, is identified and says the situation is abnormal: a guard is sent (Home
Assistant shows it), then reports, and the case closes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect
from walkthrough import (
    FRONT_DOOR,
    HA_USER,
    INSTALLATION_NAME,
    PHONE,
    PORTAL,
    PORTAL_PASSWORD,
    UPSTAIRS_SMOKE,
    ctl,
)

if TYPE_CHECKING:
    from walkthrough import Walkthrough

OPERATOR = "operator@demo.example"
CONTACT_PHONE = "06 12 34 56 78"
CONTACT_PASSWORD = "mimosa"  # noqa: S105 - said on the phone to identify; demo only
ADDRESS = {"Street": "8 chemin des Prés", "Postcode": "74300", "City": "Cluses"}


def open_centre(walk: Walkthrough) -> Page:
    """Home Assistant: Somfy Pro > Configure > Professional monitoring."""
    home = walk.homeowner
    walk.integration_page()
    home.get_by_role("button", name="Configure").click()
    home.get_by_text("Professional monitoring", exact=True).click()
    return home


def saved(walk: Walkthrough) -> None:
    walk.homeowner.get_by_role("button", name="Submit").click()
    expect(walk.homeowner.get_by_text("Options successfully saved.")).to_be_visible()
    walk.finish_dialog()


def configure(walk: Walkthrough) -> None:
    """The homeowner subscribes, then sets the first contact and the postal address."""
    walk.step("homeowner", "Configure > Professional monitoring: the benefits, Subscribe")
    home = open_centre(walk)
    expect(home.get_by_text("No commitment")).to_be_visible()
    walk.shot(home, "ha-centre-benefits")
    home.get_by_text("Subscribe", exact=True).click()
    saved(walk)

    walk.step("homeowner", "what is still missing; the first contact: a user, phone, password")
    home = open_centre(walk)
    expect(home.get_by_text("Still missing before any alarm")).to_be_visible()
    walk.shot(home, "ha-centre-missing")
    home.get_by_text("First contact", exact=True).click()
    home.get_by_role("combobox", name="Home Assistant user").click()
    # The list opens at the end of the page (the sidebar's entries are options too).
    home.get_by_role("option", name=HA_USER, exact=True).last.click()
    # Choosing the user redraws the form: a value typed before that is lost.
    home.wait_for_timeout(500)
    home.get_by_role("textbox", name="Phone number").fill(CONTACT_PHONE)
    expect(home.get_by_role("textbox", name="Phone number")).to_have_value(CONTACT_PHONE)
    home.get_by_role("textbox", name="Password").fill(CONTACT_PASSWORD)
    walk.shot(home, "ha-centre-first-contact")
    saved(walk)

    walk.step("homeowner", "the postal address: nothing is missing any more")
    home = open_centre(walk)
    home.get_by_text("Postal address", exact=True).click()
    for label, value in ADDRESS.items():
        home.get_by_role("textbox", name=label).fill(value)
    home.get_by_role("combobox", name="Country").click()
    home.get_by_role("option", name="France", exact=True).last.click()
    saved(walk)


def operator_pages(walk: Walkthrough) -> tuple[Page, Page]:
    """The demo operator, logged in on a desktop and on a phone: the console's queue."""
    pages = (walk.new_page(), walk.new_page(PHONE))
    for page in pages:
        page.goto(f"{PORTAL}/login")
        page.get_by_label("E-mail address").fill(OPERATOR)
        page.get_by_label("Password").fill(PORTAL_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{PORTAL}/centre")
    return pages


def take(walk: Walkthrough, desk: Page, phone: Page, kind: str) -> None:
    """The newest case of the walkthrough's home, from the queue; the phone follows it."""
    row = desk.locator("tr[data-case]").filter(has_text=INSTALLATION_NAME).filter(has_text=kind)
    expect(row.last).to_be_visible(timeout=30_000)  # live: no reload
    row.last.get_by_role("link").click()
    desk.get_by_role("button", name="Take this case").click()
    expect(desk.get_by_role("status")).to_contain_text("You are handling this case")
    phone.goto(desk.url)


def ha_case(walk: Walkthrough, phase: str, times: int = 1) -> None:
    """Home Assistant's box device, once ``phase`` shows ``times`` times on it."""
    home = walk.homeowner
    walk.integration_page()
    home.get_by_role("link", name=re.compile(r"\d+ devices")).first.click()
    home.get_by_text("TaHoma switch", exact=True).first.click()
    expect(home.get_by_text(phase).nth(times - 1)).to_be_visible(timeout=30_000)


def handle(walk: Walkthrough) -> None:
    """An intrusion and a fire at the box, handled by the operator; HA follows."""
    desk, phone = operator_pages(walk)
    try:
        walk.step("box", "the front door sensor detects an intrusion (ctl raise-alert)")
        ctl("raise-alert", "intrusion", FRONT_DOOR)
        walk.step("operator", f"logs in as {OPERATOR}: the case appears in the queue")
        row = desk.locator("tr[data-case]").filter(has_text=INSTALLATION_NAME)
        expect(row.last).to_be_visible(timeout=30_000)
        phone.reload()
        walk.shot(desk, "portal-centre-queue")
        walk.save(phone, f"{walk.number:02d}-portal-centre-queue-phone.png", False)

        walk.step("operator", "takes the case: no answer, a message left; the wait starts")
        take(walk, desk, phone, "Intrusion")
        desk.get_by_role("button", name="No answer", exact=True).click()
        desk.get_by_role("button", name="Message left").click()
        expect(desk.locator("#case-phase")).to_contain_text("Waiting for a call back")
        expect(desk.locator(".countdown")).to_be_visible()
        phone.reload()
        walk.shot(desk, "portal-centre-waiting")
        walk.save(phone, f"{walk.number:02d}-portal-centre-waiting-phone.png", False)
        walk.step("homeowner", "the box's device: the case waits for a call back")
        ha_case(walk, "Waiting for a call")  # the state wraps on the device page
        walk.shot(walk.homeowner, "ha-centre-case-waiting")

        walk.step("operator", "the homeowner calls back with the password: a false alarm")
        desk.get_by_label("Password given on the phone").fill(CONTACT_PASSWORD)
        desk.get_by_role("button", name="Check the password").click()
        expect(desk.locator("#case-phase")).to_contain_text("Contact identified")
        desk.get_by_role("button", name="False alarm: close the case").click()
        expect(desk.locator("#case-outcome")).to_have_text("False alarm")
        ctl("clear-alert", "intrusion", FRONT_DOOR)

        walk.step("box", "the upstairs smoke detector detects smoke (ctl raise-alert smoke)")
        ctl("raise-alert", "smoke", UPSTAIRS_SMOKE)
        desk.goto(f"{PORTAL}/centre")
        walk.step("operator", "the fire: identified, the situation abnormal, a guard sent")
        take(walk, desk, phone, "Fire")
        desk.get_by_label("Password given on the phone").fill(CONTACT_PASSWORD)
        desk.get_by_role("button", name="Check the password").click()
        desk.get_by_role("button", name="The situation is abnormal").click()
        expect(desk.locator("#case-phase")).to_contain_text("Send a guard")
        desk.get_by_role("button", name="Guard dispatched").click()
        expect(desk.locator("#case-phase")).to_contain_text("Guard on the way")
        phone.reload()
        walk.shot(desk, "portal-centre-guard")
        walk.save(phone, f"{walk.number:02d}-portal-centre-guard-phone.png", False)
        walk.step("homeowner", "the box's device: a guard is on the way")
        ha_case(walk, "Guard dispatched", times=2)  # the case's state and the entity's name
        walk.shot(walk.homeowner, "ha-centre-guard")

        walk.step("operator", "the guard reports: the case closes")
        desk.get_by_label("Note (optional").fill("Smoke from the oven; nobody hurt, aired.")
        desk.get_by_role("button", name="The guard has finished: close the case").click()
        expect(desk.locator("#case-outcome")).to_have_text("Checked by a guard")
        ctl("clear-alert", "smoke", UPSTAIRS_SMOKE)
    finally:
        desk.context.close()
        phone.context.close()


def run(walk: Walkthrough) -> None:
    """The whole monitoring-centre story."""
    configure(walk)
    handle(walk)
