"""The walkthrough's services story: the demo customer subscribes, cancels, reactivates, pays.

Run by ``make walkthrough`` after ``walkthrough.py``; it needs only the portal of a running
``make demo``, so ``python scripts/walkthrough_billing.py`` replays it alone. The demo
customer (``customer@demo.example``) owns the "Demo house", whose handover protocol was
signed a month ago (a support plan can still start), with 7 days of continuous recording on
two cameras and one invoice of an on-site intervention. In **My services** the customer
takes the Smart support plan, adds the backup connection from the offer of the services not
taken yet, pays (the billing address, the terms); cancels the backup connection (credited:
other paid services run) and the recording; cancels the plan, now the last paid service, at
the end of its period (its end date in red), then cancels the termination; and opens the
invoice. Last, the demo's Premium plan holder (``premium@demo.example``) opens the invoice of
their remote intervention, every hour and the trip less the plan's 20 %. Screenshots are
numbered after the ticket story's (``FIRST``), 1280 x 800 and, for the services page, the
offer, the payment, the end date and the plan holder's invoice, 390 x 844 too.

It can run again on the same demo: it first cancels, now, every paid service the customer
still has (a fresh demo, ``rm -rf data/demo``, gives the README's screenshots).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request

from playwright.sync_api import Error as PlaywrightError, Page, expect, sync_playwright

# isort: off
# walkthrough.py's story modules import names from it: entered by one of them, as when
# walkthrough.py runs, the cycle loads it whole (imported first, it would stop half way).
import walkthrough_centre  # noqa: F401
import walkthrough

# isort: on

CUSTOMER = "customer@demo.example"
PLAN_HOLDER = "premium@demo.example"
HOUSE = "Demo house"
FIRST = 36  # the step after the ticket story's last (35, the help's search)
PLAN = "Smart support"
ADDED = "Backup connection"
RECORDING = "Continuous recording, 7 days"


@dataclass
class Story:
    """The customer on a desktop and on a phone, both logged in; the shots taken."""

    desktop: Page
    phone: Page
    number: int = FIRST - 1
    shots: list[Path] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    services: str = ""
    who: str = "customer"

    def step(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:5.1f}s] {self.who:<9} {text}", flush=True)

    def shot(self, name: str, *, phone: bool = False, full_page: bool = False) -> None:
        """The desktop page as the next numbered screenshot (and the phone's, same number)."""
        self.number += 1
        pages = [(self.desktop, "")] + ([(self.phone, "-phone")] if phone else [])
        for page, suffix in pages:
            path = walkthrough.OUT / f"{self.number:02d}-{name}{suffix}.png"
            page.wait_for_timeout(300)
            walkthrough.save_png(page.screenshot(full_page=full_page), path)
            self.shots.append(path)
            print(f"{'':18}-> {path.relative_to(walkthrough.ROOT)}")

    def both(self, path: str) -> None:
        """Both screens on the same page of the portal."""
        for page in (self.desktop, self.phone):
            page.goto(f"{walkthrough.PORTAL}{path}")


def log_in(page: Page, email: str = CUSTOMER) -> None:
    page.goto(f"{walkthrough.PORTAL}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(walkthrough.PORTAL_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{walkthrough.PORTAL}/customer")


def running(page: Page, name: str) -> bool:
    """Whether the services page shows this service taken (active or ending)."""
    cell = page.locator("li.service").filter(has=page.get_by_role("link", name=name, exact=True))
    return cell.locator(".ends, .state").count() > 0


def cancel_every_paid_service(story: Story) -> None:
    """A demo that already ran the story: back to no paid service (each cancelled now)."""
    page = story.desktop
    for _ in range(20):  # a reactivation, then a cancellation, per service
        page.goto(f"{walkthrough.PORTAL}{story.services}")
        taken = page.locator("li.service").filter(has=page.locator(".ends, .state"))
        paid = taken.filter(has_not_text="Included")
        if not paid.count():
            return
        link = paid.first.get_by_role("link").first
        story.step(f"cancels {link.inner_text()} (left by an earlier run), now")
        link.click()
        expect(page).to_have_url(re.compile(r"/items/"))
        if page.get_by_role("button", name="Cancel the termination").count():
            page.get_by_role("button", name="Cancel the termination").click()
            expect(page).to_have_url(re.compile(r"/reactivated$"))
            continue
        page.get_by_role("link", name="Cancel this service").click()
        expect(page).to_have_url(re.compile(r"/cancel$"))
        if page.get_by_label(re.compile(r"Cancel now")).count():
            page.get_by_label(re.compile(r"Cancel now")).check()
        page.get_by_role("button", name="Cancel this service").click()
        expect(page.get_by_role("status")).to_contain_text("is cancelled")
    raise AssertionError("the services of an earlier run do not stop")


def my_services(story: Story) -> None:
    """From the customer area: the services of the house, by part."""
    page = story.desktop
    story.step("My customer area > My services")
    page.locator("section").filter(has_text=HOUSE).get_by_role("link", name="My services").click()
    expect(page.get_by_role("heading", name="My services")).to_be_visible()
    story.services = page.url.removeprefix(walkthrough.PORTAL)
    if running(page, PLAN):
        cancel_every_paid_service(story)
    story.both(story.services)
    expect(page.get_by_role("heading", name="Support plans")).to_be_visible()
    story.shot("portal-my-services", phone=True, full_page=True)


def subscribe(story: Story) -> None:
    """The plan's page, the offer (Add the backup connection), summary, payment, confirmation."""
    page = story.desktop
    story.step(f"{PLAN} > Subscribe; the offer: Add {ADDED}")
    page.get_by_role("link", name=PLAN).click()
    page.get_by_role("link", name="Subscribe").click()
    page.get_by_role("link", name=f"Add {ADDED}").click()
    page.get_by_role("link", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Add other services")).to_be_visible()
    story.phone.goto(page.url)
    story.shot("portal-services-offer", phone=True)
    story.step("Continue without adding: the summary")
    page.get_by_role("link", name="Continue without adding").click()
    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    story.shot("portal-services-summary")
    story.step("Pay: billing address, terms, Pay X and subscribe")
    page.get_by_role("link", name="Pay", exact=True).click()
    story.phone.goto(page.url)
    for screen in (page, story.phone):
        screen.get_by_label("Street and number").fill("5 Rue des Lilas")
        screen.get_by_label("Postcode").fill("75001")
        screen.get_by_label("City").fill("Paris")
        screen.get_by_label("Country (two letters, such as FR)").fill("FR")
        screen.get_by_label("I accept the terms of sale").check()
    story.shot("portal-services-pay", phone=True, full_page=True)
    page.get_by_role("button", name=re.compile(r"^Pay .* and subscribe$")).click()
    expect(page.get_by_role("heading", name="Your services have started")).to_be_visible()
    story.shot("portal-services-started")


def cancel(story: Story) -> None:
    """Credited while other paid services run; the last one at the end of its period."""
    page = story.desktop
    story.step(f"{ADDED} > Cancel this service (credited on the next invoice)")
    page.goto(f"{walkthrough.PORTAL}{story.services}")
    page.get_by_role("link", name=ADDED).click()
    page.get_by_role("link", name="Cancel this service").click()
    expect(page.get_by_text("credited on your next invoice")).to_be_visible()
    story.shot("portal-cancel-credited")
    page.get_by_role("button", name="Cancel this service").click()
    expect(page.get_by_role("status")).to_contain_text("has stopped")

    page.goto(f"{walkthrough.PORTAL}{story.services}")
    if running(page, RECORDING):  # the demo's; gone on a demo that already ran the story
        story.step(f"{RECORDING} > Cancel this service")
        page.get_by_role("link", name=RECORDING).click()
        page.get_by_role("link", name="Cancel this service").click()
        page.get_by_role("button", name="Cancel this service").click()
        expect(page.get_by_role("status")).to_contain_text("has stopped")

    story.step(f"{PLAN}, the last paid service: cancel at the end of the period")
    page.goto(f"{walkthrough.PORTAL}{story.services}")
    page.get_by_role("link", name=PLAN).click()
    page.get_by_role("link", name="Cancel this service").click()
    expect(page.get_by_label(re.compile(r"Cancel at the end of the period"))).to_be_checked()
    story.shot("portal-cancel-last")
    page.get_by_role("button", name="Cancel this service").click()
    expect(page.get_by_role("status")).to_contain_text("It stops on")
    story.both(story.services)
    plans = story.phone.get_by_role("heading", name="Support plans")
    plans.scroll_into_view_if_needed()
    expect(page.locator("li.service .ends")).to_have_count(1)
    story.shot("portal-services-ending", phone=True, full_page=True)


def reactivate(story: Story) -> None:
    """Cancel the termination: the end date is gone."""
    page = story.desktop
    story.step(f"{PLAN} > Cancel the termination")
    page.get_by_role("link", name=PLAN).click()
    page.get_by_role("button", name="Cancel the termination").click()
    expect(page.get_by_role("status")).to_contain_text("effective again")
    story.shot("portal-services-reactivated")
    page.get_by_role("link", name="My services").last.click()
    expect(page.locator(".ends")).to_have_count(0)


def invoices(story: Story) -> None:
    """My invoices: the intervention's and the subscription's; the newest opened."""
    page = story.desktop
    story.step("My invoices; the subscription's invoice")
    page.get_by_role("link", name="My invoices").first.click()
    expect(page.locator("table.invoices tbody tr")).not_to_have_count(0)
    story.shot("portal-my-invoices")
    page.locator("table.invoices tbody tr").first.get_by_role("link").first.click()
    expect(page.locator('[data-total="gross"]')).to_be_visible()
    story.shot("portal-services-invoice", full_page=True)


def plan_holder_invoice(story: Story) -> None:
    """The Premium holder's intervention: each line at list price less the plan's 20 %."""
    page = story.desktop
    story.step(f"logs in as {PLAN_HOLDER} (both screens); My invoices; the intervention's")
    for screen in (page, story.phone):
        screen.context.clear_cookies()
        log_in(screen, PLAN_HOLDER)
    page.get_by_role("link", name="My invoices").first.click()
    page.locator("table.invoices tbody tr").first.get_by_role("link").first.click()
    expect(page.get_by_text(re.compile(r"less 20 %$")).first).to_be_visible()
    story.phone.goto(page.url)
    story.shot("portal-plan-intervention-invoice", phone=True, full_page=True)


def portal_answers() -> bool:
    try:
        with urllib.request.urlopen(f"{walkthrough.PORTAL}/healthz", timeout=5):  # noqa: S310
            return True
    except (OSError, urllib.error.URLError):
        return False


def play(story: Story) -> None:
    story.step(f"logs in to the portal as {CUSTOMER} (both screens)")
    log_in(story.desktop)
    log_in(story.phone)
    my_services(story)
    subscribe(story)
    cancel(story)
    reactivate(story)
    invoices(story)
    story.who = "plan holder"
    plan_holder_invoice(story)


def main() -> int:
    """Check the portal answers, play the story, list the screenshots."""
    if not portal_answers():
        print(f"The portal does not answer at {walkthrough.PORTAL}: start `make demo` first.")
        return 1
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=walkthrough.CHROMIUM, args=walkthrough.CHROMIUM_ARGS
        )
        desktop, phone = (
            browser.new_context(
                viewport=size, locale="en-US", color_scheme="light", timezone_id="Europe/Paris"
            ).new_page()
            for size in (walkthrough.VIEWPORT, walkthrough.PHONE)
        )
        story = Story(desktop, phone)
        try:
            play(story)
        except (PlaywrightError, AssertionError) as err:
            failed = Path(tempfile.gettempdir()) / "walkthrough-failed-customer.png"
            print(f"walkthrough (services) failed: {err}", file=sys.stderr)
            with contextlib.suppress(PlaywrightError):
                desktop.screenshot(path=failed)
                print(f"  the page when it failed: {failed} ({desktop.url})", file=sys.stderr)
            return 1
        finally:
            browser.close()
    print(f"{len(story.shots)} screenshots in docs/walkthrough/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
