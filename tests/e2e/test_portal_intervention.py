"""A remote intervention in a real browser (portal side, P13-P23).

The portal runs as a process with a real SMTP server; a simulated Home Assistant (the
protocol client of ``tests/companion/ha.py``) grants the window and answers every action.
The installer requests remote service, sees the banner count down, changes an io parameter
with its pencil, reboots the box, pairs a remote scanned by a reader set to AZERTY on this
QWERTY browser (after an unreadable scan) to two products, opens the customer's web app
(states update live), ends the intervention with a comment (the customer is e-mailed), and
sees the controls disappear by themselves when a short window runs out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import re
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant
from tests.companion.interventions_common import AWNING, SHUTTER, devices
from tests.e2e.conftest_portal import Portal, portal, run_with_browser
from tests.e2e.test_portal_serv_e_go import (
    ADMIN_EMAIL,
    PASSWORD,
    LoopThread,
    _code,
    _create_admin,
    loop_thread,
)

__all__ = ["loop_thread", "portal"]


def test_remote_intervention_in_a_browser(portal: Portal, loop_thread: LoopThread) -> None:
    run_with_browser(lambda browser: _scenario(portal, browser, loop_thread))


class FakeHomeAssistant:
    """The simulated Home Assistant, driven from the test's thread."""

    def __init__(self, loop: LoopThread, ha: HomeAssistant) -> None:
        self.loop = loop
        self.ha = ha

    def send(self, frame: dict[str, Any]) -> None:
        self.loop.run(self.ha.send(frame))

    def expect(self, kind: str) -> dict[str, Any]:
        frame = self.loop.run(self.ha.expect(kind, 20))
        if kind != "ack":
            self.send(sim.frame("ack", {"id": frame["id"]}))
        return frame

    def grant(self, request_id: str | None, until: datetime, kinds: list[str]) -> None:
        payload = {
            "request_id": request_id,
            "state": "granted",
            "until": until.isoformat(),
            "kinds": kinds,
        }
        self.send(sim.frame("window", payload))
        self.expect("ack")

    def answer(self, action: dict[str, Any], ok: bool = True) -> None:
        result = {
            "action_id": action["payload"]["action_id"],
            "ok": ok,
            "at": datetime.now(UTC).isoformat(),
        }
        self.send(sim.frame("action_result", result))
        self.expect("ack")


def _tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Installation details").get_by_role(
        "link", name=re.compile(name)
    ).click()


def _scenario(portal: Portal, browser: Browser, loop_thread: LoopThread) -> None:
    _create_admin(portal.database_url)
    console_errors: list[str] = []
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(portal.url + "/login")
    page.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/installations$"))
    page.goto(portal.url + "/installations/registrations/new")
    page.get_by_label("Box PIN").fill(sim.PIN)
    page.get_by_label("Customer's e-mail address").fill("dupont@example.com")
    page.get_by_label("Installation name (optional)").fill("Maison Dupont")
    page.get_by_role("button", name="Register and send the e-mail").click()
    code = _code(portal, "dupont@example.com")

    async def make() -> HomeAssistant:
        return HomeAssistant(portal.url)

    client = loop_thread.run(make())
    ha = FakeHomeAssistant(loop_thread, client)
    try:
        assert loop_thread.run(client.link(code))[0] == 200
        loop_thread.run(client.connect())
        loop_thread.run(client.hello(monitoring=True))
        ha.send(sim.snapshot(devices()))

        # P13: request remote service; the customer is e-mailed, Home Assistant asked.
        page.get_by_role("link", name="Installations").first.click()
        page.get_by_role("link", name="Maison Dupont").click()
        banner = page.locator("#live-remote")
        # Nothing is chosen in advance: the installer ticks the kinds and picks a duration.
        for checkbox in banner.get_by_role("checkbox").all():
            expect(checkbox).not_to_be_checked()
            checkbox.check()
        banner.get_by_label("Duration").select_option("8")
        banner.get_by_role("button", name="Request remote service").click()
        expect(page.get_by_role("status")).to_have_text(
            "Remote service is requested: the customer has been asked to validate."
        )
        request = ha.expect("request_remote_service")
        portal.mailbox.wait_for(
            "dupont@example.com", lambda m: "remote service" in str(m["Subject"])
        )
        expect(page.locator("#live-remote")).to_have_attribute("data-remote", "requested")

        # P14: granted in Home Assistant; the banner appears live and counts down.
        _tab(page, "Devices")
        expect(page.get_by_text("Garage door")).to_be_visible()
        page.evaluate("window.__noReload = true")
        until = datetime.now(UTC) + timedelta(hours=8)
        ha.grant(request["payload"]["request_id"], until, sim_kinds())
        countdown = page.locator("#live-remote .countdown")
        expect(countdown).to_have_text(re.compile(r"^7:59:\d\d$"), timeout=15000)
        first = countdown.text_content()
        expect(countdown).not_to_have_text(first or "", timeout=5000)
        expect(page.locator("#live-remote")).to_contain_text("Add a remote control")
        assert page.evaluate("window.__noReload") is True

        # P15: the pencil of an io parameter; RTS read-only with its reason.
        shutter = page.locator(f'tr[data-device="{SHUTTER}"]')
        expect(page.locator(f'tr[data-device="rts://{sim.PIN}/16712345"]')).to_contain_text(
            "RTS product: one-way radio"
        )
        shutter.locator('details[data-parameter="my_position"] summary').click()
        shutter.locator('details[data-parameter="my_position"] input[name="value"]').fill("30")
        # A live update meanwhile leaves the open editor alone (and what is typed in it).
        page.evaluate("document.body.removeAttribute('data-live-updated')")
        ha.send(sim.frame("device_update", {"url": AWNING, "changes": {"rssi": 55}}))
        expect(page.locator("body[data-live-updated]")).to_have_count(1, timeout=15000)
        expect(
            shutter.locator('details[data-parameter="my_position"] input[name="value"]')
        ).to_have_value("30")
        shutter.locator('details[data-parameter="my_position"]').get_by_role(
            "button", name="Send"
        ).click()
        expect(page.get_by_role("status")).to_have_text(
            "The action is sent to the customer's Home Assistant."
        )
        action = ha.expect("action")
        assert action["payload"]["parameter"] == "my_position" and action["payload"]["value"] == 30
        ha.answer(action)

        # P16: reboot.
        page.get_by_role("button", name="Reboot the box").click()
        action = ha.expect("action")
        assert action["payload"]["kind"] == "reboot"
        ha.answer(action)

        # P19-P22: the wizard; the reader types into the field (like a keyboard).
        page.get_by_role("link", name="Add a remote control").first.click()
        page.get_by_role("link", name="In my hands").click()
        scan = page.get_by_label("Scan the remote's QR code")
        scan.click()
        page.keyboard.type("#$%~~\n")  # an unreadable scan; Enter does not submit yet
        page.get_by_label("Living room shutter").check()
        page.get_by_label("Terrace awning").check()
        page.get_by_role("button", name="Step 3: pair").click()
        expect(page.locator("[data-unreadable]")).to_have_text(
            "The scan is unreadable: scan the remote's QR code again."
        )
        scan = page.get_by_label("Scan the remote's QR code")
        scan.fill("")
        scan.click()
        # An AZERTY reader on this QWERTY browser; its Enter sends (the products are chosen).
        page.keyboard.type("IO.Q%#F@&\n")
        expect(page.get_by_role("status")).to_have_text(
            "The action is sent to the customer's Home Assistant."
        )
        action = ha.expect("action")
        assert action["payload"]["code"] == "A53F27"
        assert sorted(action["payload"]["devices"]) == sorted([SHUTTER, AWNING])
        ha.answer(action)

        # P23: the customer's web app; states update live; a command goes through HA.
        # The bar is one line: the web app's button is among its details.
        page.locator("#live-remote").get_by_role("button", name="Details").click()
        page.locator("#live-remote").get_by_role(
            "button", name="Open the customer's web app"
        ).click()
        expect(page.get_by_role("heading", name="The customer's web app")).to_be_visible()
        opened = ha.expect("action")
        assert opened["payload"]["kind"] == "web_app"
        ha.answer(opened)
        card = page.locator(f'.web-device[data-device="{SHUTTER}"]')
        expect(card.locator('[data-state="rssi"]')).to_have_text("70 %")
        page.evaluate("window.__noReload = true")
        ha.send(sim.frame("device_update", {"url": SHUTTER, "changes": {"rssi": 41}}))
        expect(card.locator('[data-state="rssi"]')).to_have_text("41 %", timeout=15000)
        assert page.evaluate("window.__noReload") is True
        card.get_by_role("button", name="Close").click()
        action = ha.expect("action")
        assert action["payload"]["command"] == "close"
        ha.answer(action)

        # P17-P18: end with the summary and a comment; the customer's e-mail.
        page.locator("#live-remote").get_by_role("link", name="End remote intervention").click()
        expect(page.locator("tr[data-action]")).to_have_count(5)
        page.get_by_label("Comment for the customer").fill("Remote A53F27 paired to both.")
        page.get_by_role("button", name="End the intervention and inform the customer").click()
        expect(page.get_by_role("status")).to_have_text(
            "The intervention is ended; the customer is informed."
        )
        ended = ha.expect("intervention_ended")
        assert ended["payload"]["comment"] == "Remote A53F27 paired to both."
        assert len(ended["payload"]["actions"]) == 5
        mail = portal.mailbox.wait_for(
            "dupont@example.com", lambda m: "ended the remote intervention" in str(m["Subject"])
        )
        body = mail.get_body().get_content()  # type: ignore[union-attr]
        assert "Your web app was opened during the intervention." in body
        assert "remote control A53F27 paired to Living room shutter, Terrace awning (done)" in body
        expect(page.locator("tr[data-entry=intervention_ended]")).to_have_count(1)

        # Granted again, then revoked in Home Assistant mid-session: the controls go live.
        _tab(page, "Devices")
        page.evaluate("window.__noReload = true")
        ha.grant(None, datetime.now(UTC) + timedelta(hours=1), sim_kinds())
        expect(page.get_by_role("button", name="Reboot the box")).to_be_visible(timeout=15000)
        ha.send(sim.frame("window", {"request_id": None, "state": "revoked"}))
        ha.expect("ack")
        expect(page.get_by_role("button", name="Reboot the box")).to_have_count(0, timeout=15000)
        expect(page.locator("[data-last-window]")).to_have_text(
            "The customer revoked the remote-service window."
        )
        assert page.evaluate("window.__noReload") is True

        # A short window granted in Home Assistant: the controls go away when it runs out.
        ha.grant(None, datetime.now(UTC) + timedelta(seconds=4), sim_kinds())
        reboot = page.get_by_role("button", name="Reboot the box")
        expect(reboot).to_be_visible(timeout=15000)
        expect(page.locator("#live-remote .countdown")).to_have_text(
            "The remote-service window has ended.", timeout=20000
        )
        expect(reboot).to_be_hidden()
    finally:
        loop_thread.run(client.close())
        context.close()
    assert [e for e in console_errors if "status of 400" not in e] == []


def sim_kinds() -> list[str]:
    return ["parameters", "reboot", "pair_remote", "web_app"]
