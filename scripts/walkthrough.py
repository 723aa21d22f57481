"""``make walkthrough``: play the installer and the homeowner on a running ``make demo``.

Drives a headless Chromium (Playwright, the system's ``/usr/bin/chromium``) through the
installer portal and the real Home Assistant frontend, and saves the screenshots of the
README's "Walkthrough" section in ``docs/walkthrough/``: 1280 x 800, and for the installer's
main pages (the request form, the work queue, the Devices tab with the remote-service bar)
also 390 x 844 from a second, phone-sized session (``NN-name-phone.png``). Every step is a
click or a typed value in the real UI; the box's side (an intrusion, a product offline, radio
levels moving) is played with the simulator's control CLI, as a test or a demo would.

It can run again on a demo that already ran it: it first deletes the Somfy Pro entry in Home
Assistant (which unlinks the box in the portal), unlinks any link the portal still holds for
the demo box (as the administrator), and clears the simulator's intrusion and offline
product. The portal keeps the earlier installations (unlinked); a fresh demo (``rm -rf
data/demo``, then ``make demo``) starts from nothing.

Over 400 lines in one file: the README's story, step by step in the order a reader follows it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
import io
import os
from pathlib import Path
import re
import ssl
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING
import urllib.error
import urllib.request

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Error as PlaywrightError,
    Locator,
    Page,
    expect,
    sync_playwright,
)
import walkthrough_centre
import walkthrough_tickets

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import ViewportSize

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "walkthrough"
PORTAL = os.environ.get("DEMO_PORTAL_URL", "http://127.0.0.1:8080")
HA = os.environ.get("DEMO_HA_URL", "http://127.0.0.1:8123")
BOX_HOST = "127.0.0.1:8443"
BOX_API = f"https://{BOX_HOST}/enduser-mobile-web/1/enduserAPI/apiVersion"
BOX_CONTROL = "http://127.0.0.1:8444/simulator"
BOX_TOKEN = os.environ.get("DEMO_BOX_TOKEN", "somfy-pro-demo-token")
PIN = "1234-5678-9012"  # the simulator's "home" scenario, which make demo starts
HA_USER, HA_PASSWORD = "demo", "demo-password"
ADMIN = "admin@demo.example"
INSTALLER = "installer@demo.example"
PORTAL_PASSWORD = "somfy-demo-2025"  # noqa: S105 - the demo's printed password
COMPANY = "Demo Installers"
CUSTOMER = "dupont@example.com"
INSTALLATION_NAME = "Maison Dupont"
FRONT_DOOR = f"io://{PIN}/10338254"
UPSTAIRS_SMOKE = f"io://{PIN}/10811423"
BEDROOM_SHUTTER = f"io://{PIN}/13420512"
GARDEN_WINDOW = f"io://{PIN}/10338255"
REMOTE_QR = "SOMFY;IO:E53F27;SN:1234"  # what a 2D reader types for the new remote's QR code
CODE_RE = re.compile(r"Validation code: ([0-9A-Z]{5}-[0-9A-Z]{5})")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
# A 1x1 transparent PNG for the brand icons Home Assistant fetches from the internet (which
# the demo does not reach): an empty square instead of a broken-image icon.
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def check_demo() -> list[str]:
    """The pieces of ``make demo`` that do not answer (empty when all do)."""
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE  # the simulator's self-signed certificate
    probes = [
        ("box simulator", BOX_API, unverified),
        ("box control API", f"{BOX_CONTROL}/state", None),
        ("installer portal", f"{PORTAL}/healthz", None),
        ("Home Assistant", f"{HA}/manifest.json", None),
    ]
    missing = []
    for name, url, context in probes:
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as answer:  # noqa: S310
                answer.read()
        except (OSError, urllib.error.URLError):
            missing.append(f"{name} ({url})")
    return missing


def ctl(*args: str) -> None:
    """Act on the simulated box with its control CLI (what ``box_simulator.ctl`` does)."""
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "box_simulator.ctl", "--control", BOX_CONTROL, *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def save_png(data: bytes, path: Path) -> None:
    """Write a screenshot, reduced to 256 colours when Pillow is there (a third of the size)."""
    try:
        from PIL import Image  # optional (Home Assistant brings it)
    except ImportError:
        path.write_bytes(data)
        return
    with Image.open(io.BytesIO(data)) as image:
        reduced = image.convert("RGB").quantize(
            256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        reduced.save(path, optimize=True)


@dataclass
class Walkthrough:
    """Both roles, each in its own browser context, and what the story found so far."""

    browser: Browser
    installer: Page = field(init=False)
    phone: Page = field(init=False)  # the installer again, on a phone
    homeowner: Page = field(init=False)
    installation_id: int = 0
    code: str = ""
    number: int = 0
    shots: list[Path] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.installer = self.new_page()
        self.phone = self.new_page(PHONE)
        self.homeowner = self.new_page()
        # Brand icons come from brands.home-assistant.io, out of the demo's reach.
        self.homeowner.context.route(
            "https://brands.home-assistant.io/**",
            lambda route: route.fulfill(status=200, content_type="image/png", body=BLANK_PNG),
        )

    def new_page(self, viewport: ViewportSize = VIEWPORT) -> Page:
        context: BrowserContext = self.browser.new_context(
            viewport=viewport, locale="en-US", color_scheme="light", timezone_id="Europe/Paris"
        )
        context.set_default_timeout(20_000)
        return context.new_page()

    # -- reporting ---------------------------------------------------------------------

    def step(self, role: str, text: str) -> None:
        """Say what happens now."""
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:5.1f}s] {role:<9} {text}", flush=True)

    def shot(self, page: Page, name: str, full_page: bool = False) -> None:
        """Save the page as it is now as the next numbered screenshot."""
        self.number += 1
        self.save(page, f"{self.number:02d}-{name}.png", full_page)

    def phone_shot(self, name: str, full_page: bool = False) -> None:
        """The phone's page, shown next to the step's screenshot (same number)."""
        self.save(self.phone, f"{self.number:02d}-{name}-phone.png", full_page)

    def save(self, page: Page, file_name: str, full_page: bool) -> None:
        path = OUT / file_name
        page.wait_for_timeout(400)  # let transitions (dialogs, ripples) settle
        save_png(page.screenshot(full_page=full_page), path)
        self.shots.append(path)
        print(f"{'':18}-> {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")

    # -- portal helpers ----------------------------------------------------------------

    def portal_login(self, page: Page, email: str) -> None:
        page.goto(f"{PORTAL}/login")
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(PORTAL_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{PORTAL}/installations")

    def installation(self, suffix: str = "") -> None:
        self.installer.goto(f"{PORTAL}/installations/{self.installation_id}{suffix}")

    def tab(self, name: str) -> None:
        self.installer.get_by_role("navigation", name="Installation details").get_by_role(
            "link", name=re.compile(name)
        ).click()

    def flash(self, text: str) -> None:
        expect(self.installer.get_by_role("status")).to_have_text(text)

    def outbox_mail(self, subject: str | re.Pattern[str], to: str) -> Locator:
        """The newest e-mail of the demo outbox with this subject, sent to ``to``."""
        page = self.installer
        page.goto(f"{PORTAL}/demo/outbox")
        mail = (
            page.locator("article.mail")
            .filter(has=page.get_by_role("heading", name=subject))
            .filter(has_text=f"To: {to}")
            .first
        )
        expect(mail).to_be_visible()
        return mail

    @staticmethod
    def scroll_to_top(locator: Locator) -> None:
        """Scroll so that this element is at the top of the window."""
        locator.evaluate("element => element.scrollIntoView({block: 'start'})")

    # -- Home Assistant helpers --------------------------------------------------------

    def ha_login(self) -> None:
        page = self.homeowner
        page.goto(f"{HA}/")
        page.get_by_role("textbox", name="Username").fill(HA_USER)
        page.get_by_role("textbox", name="Password").fill(HA_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/lovelace"))

    def integration_page(self) -> None:
        self.homeowner.goto(f"{HA}/config/integrations/integration/somfy_pro")
        expect(self.homeowner.get_by_text("Custom integration")).to_be_visible()

    def entry_row(self) -> Locator:
        return self.homeowner.get_by_text(f"TaHoma Switch {PIN}", exact=True)

    def finish_dialog(self) -> None:
        self.homeowner.get_by_role("button", name="Finish").click()
        expect(self.homeowner.get_by_role("button", name="Finish")).to_have_count(0)

    def dismiss_notifications(self, text: str) -> None:
        """Dismiss the notifications containing ``text`` (the drawer of the sidebar)."""
        page = self.homeowner
        page.get_by_text("Notifications", exact=True).click()
        drawer = page.locator("notification-drawer")
        expect(drawer.get_by_text("Notifications", exact=True)).to_be_visible()
        cards = drawer.locator("notification-item").filter(has_text=text)
        while cards.count():
            cards.first.get_by_role("button", name="Dismiss").click()
            page.wait_for_timeout(300)
        page.keyboard.press("Escape")

    def open_repair(self, title: str) -> None:
        page = self.homeowner
        page.goto(f"{HA}/config/repairs")
        page.get_by_text(title).first.click()

    # -- the story ---------------------------------------------------------------------

    def reset(self) -> None:
        """Undo what an earlier run left: the entry, the portal's link, the intrusion."""
        ctl("clear-alert", "intrusion", FRONT_DOOR)
        ctl("device-online", GARDEN_WINDOW)
        page = self.homeowner
        self.integration_page()
        deleted = bool(self.entry_row().count())
        if deleted:
            self.step("homeowner", "deletes the Somfy Pro entry of an earlier run (unlinks too)")
            page.get_by_role("button", name="Menu").click()
            page.get_by_role("menuitem", name="Delete").click()
            page.get_by_role("button", name="Delete", exact=True).click()
            expect(self.entry_row()).to_have_count(0)
            self.dismiss_notifications("ended the remote intervention")
        admin = self.new_page()
        try:
            self.portal_login(admin, ADMIN)
            linked = (
                admin.locator("tr")
                .filter(has_text=PIN)
                .filter(has=admin.locator('[data-status="linked"]'))
            )
            # Home Assistant tells the portal about the deleted entry: give it a moment.
            for _ in range(20 if deleted else 0):
                if linked.count() == 0:
                    break
                admin.wait_for_timeout(500)
                admin.reload()
            for _ in range(5):
                if linked.count() == 0:
                    break
                self.step("installer", "the administrator unlinks an earlier link of the box")
                linked.first.get_by_role("link").first.click()
                admin.get_by_role("button", name="Unlink the box").click()
                admin.goto(f"{PORTAL}/installations")
        finally:
            admin.context.close()

    def register(self) -> None:
        page = self.installer
        self.step("installer", f"logs in to the portal as {INSTALLER} (and on a phone)")
        self.portal_login(page, INSTALLER)
        self.portal_login(self.phone, INSTALLER)
        page.get_by_role("link", name="Registration requests").click()
        self.step("installer", f"registers the box {PIN} for {CUSTOMER}")
        page.get_by_role("link", name="Register a new box").click()
        page.get_by_label("Box PIN").fill(PIN)
        page.get_by_label("Customer's e-mail address").fill(CUSTOMER)
        page.get_by_label("Installation name (optional)").fill(INSTALLATION_NAME)
        self.shot(page, "portal-register-box")
        page.get_by_role("button", name="Register and send the e-mail").click()
        if page.get_by_text("already registered in your company").count():
            # Registered by an earlier run and never linked: send a new code instead.
            self.step("installer", "the box waits for its customer already: Resend e-mail")
            page.get_by_role("link", name="Registration requests").click()
            row = page.locator(f'tr[data-request="{PIN}"]')
            href = row.get_by_role("link").first.get_attribute("href") or ""
            row.get_by_role("link", name="Resend e-mail").click()
            page.get_by_label("Customer's e-mail address").fill(CUSTOMER)
            page.get_by_role("button", name="Send the e-mail").click()
            self.flash("A new validation code is sent; the previous one no longer works.")
        else:
            self.flash("The box is registered: the customer has been sent the validation code.")
            href = page.url
        match = re.search(r"/installations/(\d+)", href)
        assert match, href
        self.installation_id = int(match.group(1))
        self.step("installer", "reads the customer's e-mail in the demo outbox")
        mail = self.outbox_mail(re.compile("link your Somfy box"), CUSTOMER)
        found = CODE_RE.search(mail.inner_text())
        assert found, mail.inner_text()
        self.code = found.group(1)
        self.step("homeowner", f"(the e-mail) validation code {self.code}")
        self.scroll_to_top(mail)
        self.shot(page, "portal-outbox-code")

    def add_box(self) -> None:
        page = self.homeowner
        self.step("homeowner", f"Add integration > Somfy Pro: host {BOX_HOST}, the box's token")
        page.goto(f"{HA}/config/integrations/dashboard")
        page.get_by_role("button", name="Add integration").click()
        page.get_by_role("textbox", name="Search for a brand name").fill("Somfy Pro")
        page.get_by_text("Somfy Pro", exact=True).click()
        page.get_by_role("textbox", name="Host").fill(BOX_HOST)
        page.get_by_role("textbox", name="Token").fill(BOX_TOKEN)
        page.get_by_role("checkbox", name="Verify the SSL certificate").uncheck()
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_text(f"Created configuration for TaHoma Switch {PIN}")).to_be_visible()
        expect(page.get_by_text("Living room shutter").first).to_be_visible()
        self.shot(page, "ha-box-added")
        self.finish_dialog()

    def link(self) -> None:
        page = self.homeowner
        self.step("homeowner", "Configure > Link an installer: portal address and code")
        self.integration_page()
        page.get_by_role("button", name="Configure").click()
        page.get_by_role("textbox", name="Portal address").fill(PORTAL)
        page.get_by_role("textbox", name="Validation code").fill(self.code)
        self.shot(page, "ha-link-installer")
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_text("Options successfully saved.")).to_be_visible()
        self.finish_dialog()

    def serv_e_go(self) -> None:
        page = self.installer
        self.step("installer", "sees the box linked and clicks Activate Serv-e-go")
        self.installation()
        expect(page.locator('[data-registration="linked"]')).to_be_visible()
        page.get_by_role("button", name="Activate Serv-e-go for this user").first.click()
        self.flash("Serv-e-go is requested: the customer has been asked to validate.")
        self.shot(page, "portal-serv-e-go-requested")

        home = self.homeowner
        self.step("homeowner", "Settings > Repairs: the monitoring request names the company")
        self.open_repair(f"{COMPANY} asks to monitor your Somfy box")
        expect(home.get_by_text(f"Monitoring request from {COMPANY}")).to_be_visible()
        self.shot(home, "ha-approve-monitoring")
        home.get_by_text("Approve monitoring").click()
        expect(home.get_by_text("The issue is repaired!")).to_be_visible()
        self.finish_dialog()

    def monitoring(self) -> None:
        page = self.installer
        self.step("installer", "Installation tab: box online, firmware, Home Assistant connected")
        self.installation()
        expect(page.locator('[data-monitoring="granted"]')).to_be_visible()
        expect(page.get_by_text("Box online")).to_be_visible()
        self.shot(page, "portal-installation")

        self.step("box", "the garden window sensor goes offline (ctl device-offline)")
        ctl("device-offline", GARDEN_WINDOW)
        self.step("installer", "Devices tab: products needing attention first, radio levels")
        self.tab("Devices")
        devices = page.locator("#live-devices")
        expect(devices.get_by_role("link", name="Upstairs smoke detector")).to_be_visible()
        first = devices.locator("tbody tr").first
        expect(first).to_have_attribute("data-device", GARDEN_WINDOW)
        expect(first).to_contain_text("Offline")
        self.scroll_to_top(devices)
        self.shot(page, "portal-devices")
        ctl("device-online", GARDEN_WINDOW)

        self.step("box", "the upstairs smoke detector's radio level moves (ctl rssi)")
        for level in (48, 31, 66, 40, 58):
            ctl("rssi", UPSTAIRS_SMOKE, str(level))
            page.wait_for_timeout(1200)
        self.step("installer", "the product's page: radio level and its history chart")
        devices.get_by_role("link", name="Upstairs smoke detector").click()
        expect(page.locator("[data-rssi]")).to_contain_text("58 %")
        expect(page.locator("svg polyline")).to_have_count(1)
        self.scroll_to_top(page.locator("#live-device h2"))
        self.shot(page, "portal-radio-history")

        self.step("installer", "opens the Alerts tab (it updates by itself)")
        self.tab("Alerts")
        expect(page.locator("#live-alerts")).to_be_visible()
        self.step("box", "the front door sensor detects an intrusion (ctl raise-alert)")
        ctl("raise-alert", "intrusion", FRONT_DOOR)
        row = page.locator("tr[data-alert]").filter(has_text="Front door").first
        expect(row).to_contain_text("active", timeout=30_000)
        self.shot(page, "portal-alert-live")
        self.step("installer", "the alert e-mail in the outbox")
        mail = self.outbox_mail(f"Alert on {INSTALLATION_NAME}: Intrusion", INSTALLER)
        self.scroll_to_top(mail)
        self.shot(page, "portal-alert-mail")

    def remote_service(self) -> None:
        page = self.installer
        self.step("installer", "requests remote service (all kinds, 4 hours)")
        self.installation()
        banner = page.locator("#live-remote")
        self.phone.goto(page.url)
        for form in (banner, self.phone.locator("#live-remote")):
            for checkbox in form.get_by_role("checkbox").all():
                checkbox.check()
            form.get_by_label("Duration").select_option("4")
            self.scroll_to_top(form)
        self.shot(page, "portal-request-remote-service")
        self.phone_shot("portal-request-remote-service")
        banner.get_by_role("button", name="Request remote service").click()
        self.flash("Remote service is requested: the customer has been asked to validate.")

        home = self.homeowner
        self.step("homeowner", "Repairs: approves remote service for 2 hours, without reboot")
        self.open_repair(f"{COMPANY} asks for remote service")
        expect(home.get_by_text(f"Remote service for {COMPANY}")).to_be_visible()
        home.get_by_text("Approve", exact=True).click()
        home.get_by_role("spinbutton", name="Duration (hours)").fill("2")
        home.get_by_role("checkbox", name="Reboot the box").uncheck()
        self.shot(home, "ha-approve-remote-service")
        home.get_by_role("button", name="Submit").click()
        expect(home.get_by_text("The issue is repaired!")).to_be_visible()
        self.finish_dialog()

        self.step("homeowner", "the box's device page: installer, monitoring, remote service")
        self.integration_page()
        home.get_by_role("link", name=re.compile(r"\d+ devices")).first.click()
        home.get_by_text("TaHoma switch", exact=True).first.click()
        expect(home.get_by_text("Remote service until")).to_be_visible()
        expect(home.get_by_text(COMPANY).first).to_be_visible()
        self.shot(home, "ha-remote-service-entities")

        self.step("installer", "the work queue: online, the intrusion, Serv-e-go, the window")
        page.goto(f"{PORTAL}/installations")
        row = page.locator(f'tr[data-installation="{self.installation_id}"]')
        expect(row.locator("[data-window=open]")).to_be_visible()
        expect(row.locator("[data-alerts]")).to_contain_text("Intrusion")
        self.shot(page, "portal-work-queue", full_page=True)  # the search, filters and list
        self.phone.goto(page.url)
        self.phone_shot("portal-work-queue", full_page=True)
        ctl("clear-alert", "intrusion", FRONT_DOOR)

        self.step("installer", "the banner counts down; the pencil of a shutter's 'my' position")
        self.installation("/devices")
        expect(banner.locator(".countdown")).to_have_text(re.compile(r"^1:5\d:\d\d$"))
        expect(banner).not_to_contain_text("Reboot the box")
        self.phone.goto(page.url)
        expect(self.phone.locator("#live-remote .countdown")).to_be_visible()
        self.scroll_to_top(self.phone.locator("#live-devices"))
        shutter = page.locator(f'tr[data-device="{BEDROOM_SHUTTER}"]')
        pencil = shutter.locator('details[data-parameter="my_position"]')
        pencil.locator("summary").click()
        pencil.get_by_role("spinbutton").fill("30")
        self.scroll_to_top(page.locator("#live-devices"))
        self.shot(page, "portal-remote-window")
        self.phone_shot("portal-remote-window")
        pencil.get_by_role("button", name="Send").click()
        self.flash("The action is sent to the customer's Home Assistant.")

        self.step("installer", "Add a remote control: in my hands, QR code scanned, two shutters")
        page.get_by_role("link", name="Add a remote control").first.click()
        page.get_by_role("link", name="In my hands").click()
        page.get_by_label("Scan the remote's QR code").click()
        page.keyboard.type(REMOTE_QR)  # a 2D reader types like a keyboard
        page.get_by_label("Living room shutter").check()
        page.get_by_label("Kitchen shutter").check()
        self.scroll_to_top(page.locator("#live-pair h2"))
        self.shot(page, "portal-pair-remote")
        page.get_by_role("button", name="Step 3: pair").click()
        self.flash("The action is sent to the customer's Home Assistant.")

        self.step("installer", "opens the customer's web app; 'My' on the bedroom shutter")
        banner.get_by_role("button", name="Details").click()  # the bar is one line
        banner.get_by_role("button", name="Open the customer's web app").click()
        expect(page.get_by_role("heading", name="The customer's web app")).to_be_visible()
        card = page.locator(f'.web-device[data-device="{BEDROOM_SHUTTER}"]')
        card.get_by_role("button", name="My").click()
        position = card.locator('[data-state="position"]')
        if position.count():
            expect(position).to_have_text("30 % closed")
        else:  # a portal that shows no position: give the shutter time to move
            page.wait_for_timeout(2500)
        self.scroll_to_top(page.get_by_role("heading", name="The customer's web app"))
        self.shot(page, "portal-web-app")

        self.step("installer", "ends the intervention with a comment for the customer")
        banner.get_by_role("link", name="End remote intervention").click()
        expect(page.locator("tr[data-action]").first).to_be_visible()
        page.get_by_label("Comment for the customer").fill(
            "New remote E53F27 paired to the living room and kitchen shutters; "
            "'my' position of the bedroom shutter set to 30 %."
        )
        self.scroll_to_top(page.get_by_role("heading", name="Summary of the actions"))
        self.shot(page, "portal-end-intervention")
        page.get_by_role("button", name="End the intervention and inform the customer").click()
        self.flash("The intervention is ended; the customer is informed.")

        self.step("homeowner", "the notification: the installer's comment and every action")
        self.integration_page()
        home.get_by_text("Notifications", exact=True).click()
        expect(home.get_by_text(f"{COMPANY} ended the remote intervention").first).to_be_visible()
        self.shot(home, "ha-intervention-ended")
        home.keyboard.press("Escape")

    def revoke(self) -> None:
        home = self.homeowner
        self.step("homeowner", "Configure > Revoke monitoring")
        self.integration_page()
        home.get_by_role("button", name="Configure").click()
        home.get_by_text("Revoke monitoring").click()
        expect(home.get_by_text(f"to {COMPANY}?")).to_be_visible()
        self.shot(home, "ha-revoke-monitoring")
        home.get_by_role("button", name="Submit").click()
        expect(home.get_by_text("Options successfully saved.")).to_be_visible()
        self.finish_dialog()
        self.step("installer", "the Devices, Alerts and Interventions tabs are locked again")
        self.installation("/devices")
        expect(self.installer.get_by_role("heading", name="Tab locked")).to_be_visible()

    def run(self) -> None:
        self.step("homeowner", f"logs in to Home Assistant as {HA_USER}")
        self.ha_login()
        self.reset()
        self.register()
        self.add_box()
        self.link()
        self.serv_e_go()
        self.monitoring()
        self.remote_service()
        self.revoke()
        walkthrough_centre.run(self)
        walkthrough_tickets.run(self)


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def on_failure(walk: Walkthrough, report: Callable[[str], None]) -> None:
    """Keep both pages as they were when a step failed, for the investigation."""
    pages = (("installer", walk.installer), ("phone", walk.phone), ("homeowner", walk.homeowner))
    for role, page in pages:
        path = Path(tempfile.gettempdir()) / f"walkthrough-failed-{role}.png"
        with contextlib.suppress(PlaywrightError):
            page.screenshot(path=path)
            report(f"  {role}'s page when it failed: {path} ({page.url})")


def main() -> int:
    """Check the demo, play the story, list the screenshots."""
    missing = check_demo()
    if missing:
        print("Not answering: " + ", ".join(missing), file=sys.stderr)
        print(
            "start `make demo` first (in another terminal), then run this again.", file=sys.stderr
        )
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=20_000)  # a demo on a busy machine answers slowly
    with chromium() as browser:
        walk = Walkthrough(browser)
        try:
            walk.run()
        except (PlaywrightError, AssertionError, subprocess.CalledProcessError) as err:
            print(f"walkthrough failed: {err}", file=sys.stderr)
            on_failure(walk, lambda line: print(line, file=sys.stderr))
            return 1
    elapsed = time.monotonic() - walk.started
    print(f"{len(walk.shots)} screenshots in {OUT.relative_to(ROOT)}/ ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
