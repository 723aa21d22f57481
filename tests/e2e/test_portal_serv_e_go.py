"""Registration, Serv-e-go and the live installation view in a real browser.

The portal runs as a process with a real SMTP server; a simulated Home Assistant (the
WebSocket client of ``tests/companion/ha.py``, in its own event loop thread) links with the
mailed code. The installer registers the box, resends the e-mail to a corrected address,
asks for Serv-e-go, sees the tabs locked, then unlocked with the devices, and an alert
appearing in the Alerts tab without reloading the page.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant
from tests.e2e.conftest_portal import (
    ADMIN_EMAIL,
    LoopThread,
    Portal,
    log_in_as_admin,
    loop_thread,
    mailed_code,
    portal,
    run_with_browser,
)

__all__ = ["loop_thread", "portal"]


def test_register_serv_e_go_live_alert(portal: Portal, loop_thread: LoopThread) -> None:
    run_with_browser(lambda browser: _scenario(portal, browser, loop_thread))


def _scenario(portal: Portal, browser: Browser, loop_thread: LoopThread) -> None:
    console_errors: list[str] = []
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    log_in_as_admin(page, portal)

    # Register the box (P1-P2).
    page.get_by_role("link", name="Registration requests").click()
    expect(page.get_by_text("No request is waiting for a customer.")).to_be_visible()
    page.get_by_role("link", name="Register a new box").click()
    page.get_by_label("Box PIN").fill("1234-5678")
    page.get_by_label("Customer's e-mail address").fill("dupont@example.com")
    page.get_by_role("button", name="Register and send the e-mail").click()
    expect(page.get_by_text("Enter the box PIN in the form 1234-5678-9012.")).to_be_visible()
    page.get_by_label("Box PIN").fill(sim.PIN)
    page.get_by_label("Installation name (optional)").fill("Maison Dupont")
    page.get_by_role("button", name="Register and send the e-mail").click()
    expect(page.get_by_role("status")).to_have_text(
        "The box is registered: the customer has been sent the validation code."
    )
    expect(page.get_by_text("Best done now")).to_be_visible()
    first_code = mailed_code(portal, "dupont@example.com")

    # Resend to a corrected address (P4): the first code stops working.
    page.get_by_role("link", name="Resend e-mail").first.click()
    page.get_by_label("Customer's e-mail address").fill("m.dupont@example.com")
    page.get_by_role("button", name="Send the e-mail").click()
    expect(page.get_by_role("status")).to_have_text(
        "A new validation code is sent; the previous one no longer works."
    )
    expect(page.locator(f'tr[data-request="{sim.PIN}"]')).to_contain_text("m.dupont@example.com")
    code = mailed_code(portal, "m.dupont@example.com")
    assert code != first_code

    async def make() -> HomeAssistant:
        return HomeAssistant(portal.url)  # its client session belongs to the loop thread

    ha = loop_thread.run(make())
    try:
        assert loop_thread.run(ha.link(first_code))[0] == 400
        assert loop_thread.run(ha.link(code))[0] == 200
        loop_thread.run(ha.connect())
        loop_thread.run(ha.hello())

        # Serv-e-go (P5): requested; the tabs stay locked (P6).
        page.get_by_role("link", name="Maison Dupont").click()
        page.get_by_role("button", name="Activate Serv-e-go for this user").first.click()
        expect(page.get_by_role("status")).to_have_text(
            "Serv-e-go is requested: the customer has been asked to validate."
        )
        request = loop_thread.run(ha.expect("request_monitoring"))
        portal.mailbox.wait_for("m.dupont@example.com", lambda m: "Serv-e-go" in str(m["Subject"]))
        page.get_by_role("navigation", name="Installation details").get_by_role(
            "link", name=re.compile("Devices")
        ).click()
        expect(page.get_by_role("heading", name="Tab locked")).to_be_visible()
        page.evaluate("window.__noReload = true")

        # Home Assistant grants and streams: the tab opens without a reload (P7, P9).
        loop_thread.run(ha.send(sim.frame("ack", {"id": request["id"]})))
        loop_thread.run(ha.send(sim.consent("granted", request["payload"]["request_id"])))
        loop_thread.run(ha.expect("ack"))
        loop_thread.run(ha.send(sim.snapshot()))
        expect(page.get_by_role("link", name="Living room shutter")).to_be_visible(timeout=15000)
        expect(page.get_by_role("heading", name="Tab locked")).to_have_count(0)
        assert page.evaluate("window.__noReload") is True

        # The io product's page: radio level and its history chart.
        page.get_by_role("link", name="Living room shutter").click()
        expect(page.locator("svg polyline")).to_have_count(1)
        expect(page.locator("[data-rssi]")).to_contain_text("72 %")

        # The Alerts tab; an alert arrives live and links to its product (P10).
        page.get_by_role("navigation", name="Installation details").get_by_role(
            "link", name=re.compile("Alerts")
        ).click()
        expect(page.get_by_text("No alert so far.")).to_be_visible()
        page.evaluate("window.__noReload = true")
        loop_thread.run(ha.send(sim.alert("alarm-1", "intrusion")))
        loop_thread.run(ha.expect("ack"))
        row = page.locator('tr[data-alert="alarm-1"]')
        expect(row).to_be_visible(timeout=15000)
        expect(row).to_contain_text("Intrusion")
        expect(row).to_contain_text("active")
        assert page.evaluate("window.__noReload") is True
        row.get_by_role("link", name="Intrusion").click()
        expect(page.get_by_role("heading", name="Door sensor")).to_be_visible()

        # The installer who registered the box is e-mailed (alert settings, P11).
        alert_mail = portal.mailbox.wait_for(ADMIN_EMAIL, lambda m: "Alert" in str(m["Subject"]))
        assert alert_mail["Subject"] == "Alert on Maison Dupont: Intrusion"
    finally:
        loop_thread.run(ha.close())
        context.close()
    # Nothing blocked by the Content-Security-Policy, no script error (the form answered
    # 400 on purpose once: Chromium logs that as a failed resource).
    assert [e for e in console_errors if "status of 400" not in e] == []
