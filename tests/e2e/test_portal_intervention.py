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

from playwright.sync_api import Browser, Page, expect

from tests.companion import ha as sim
from tests.companion.interventions_common import AWNING, SHUTTER
from tests.e2e.conftest_portal import (
    CUSTOMER,
    KINDS,
    LoopThread,
    Portal,
    linked_box,
    log_in_as_admin,
    loop_thread,
    portal,
    run_with_browser,
)

__all__ = ["loop_thread", "portal"]


def test_remote_intervention_in_a_browser(portal: Portal, loop_thread: LoopThread) -> None:
    run_with_browser(lambda browser: _scenario(portal, browser, loop_thread))


def _tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Installation details").get_by_role(
        "link", name=re.compile(name)
    ).click()


def _scenario(portal: Portal, browser: Browser, loop_thread: LoopThread) -> None:
    console_errors: list[str] = []
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    log_in_as_admin(page, portal)
    with linked_box(page, portal, loop_thread, name="Maison Dupont") as ha:
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
        portal.mailbox.wait_for(CUSTOMER, lambda m: "remote service" in str(m["Subject"]))
        expect(page.locator("#live-remote")).to_have_attribute("data-remote", "requested")

        # P14: granted in Home Assistant; the banner appears live and counts down.
        _tab(page, "Devices")
        expect(page.get_by_text("Garage door")).to_be_visible()
        page.evaluate("window.__noReload = true")
        until = datetime.now(UTC) + timedelta(hours=8)
        ha.grant(request["payload"]["request_id"], until, KINDS)
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
            CUSTOMER, lambda m: "ended the remote intervention" in str(m["Subject"])
        )
        body = mail.get_body().get_content()  # type: ignore[union-attr]
        assert "Your web app was opened during the intervention." in body
        assert "remote control A53F27 paired to Living room shutter, Terrace awning (done)" in body
        expect(page.locator("tr[data-entry=intervention_ended]")).to_have_count(1)

        # Granted again, then revoked in Home Assistant mid-session: the controls go live.
        _tab(page, "Devices")
        page.evaluate("window.__noReload = true")
        ha.grant(None, datetime.now(UTC) + timedelta(hours=1), KINDS)
        expect(page.get_by_role("button", name="Reboot the box")).to_be_visible(timeout=15000)
        ha.send(sim.frame("window", {"request_id": None, "state": "revoked"}))
        ha.expect("ack")
        expect(page.get_by_role("button", name="Reboot the box")).to_have_count(0, timeout=15000)
        expect(page.locator("[data-last-window]")).to_have_text(
            "The customer revoked the remote-service window."
        )
        assert page.evaluate("window.__noReload") is True

        # A short window granted in Home Assistant: the controls go away when it runs out.
        ha.grant(None, datetime.now(UTC) + timedelta(seconds=4), KINDS)
        reboot = page.get_by_role("button", name="Reboot the box")
        expect(reboot).to_be_visible(timeout=15000)
        expect(page.locator("#live-remote .countdown")).to_have_text(
            "The remote-service window has ended.", timeout=20000
        )
        expect(reboot).to_be_hidden()
    context.close()
    assert [e for e in console_errors if "status of 400" not in e] == []
