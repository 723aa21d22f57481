"""Live updates keep the keyboard focus, and say what happened in a polite live region.

The installer's keyboard focus is on a product link of the Devices tab, then on "End remote
intervention" in the remote-service bar; the simulated Home Assistant moves a product's
radio level each time: the page updates in place and the focus stays on the same control.
A new alert and the customer revoking the window are announced in #announcer, translated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.companion import ha as sim
from tests.companion.interventions_common import AWNING, SHUTTER
from tests.e2e.conftest_portal import (
    KINDS,
    FakeHomeAssistant,
    LoopThread,
    Portal,
    linked_box,
    log_in_as_admin,
    loop_thread,
    portal,
    run_with_browser,
)

__all__ = ["loop_thread", "portal"]

FOCUSED = "document.activeElement && document.activeElement.textContent.trim()"


def test_focus_survives_live_updates(portal: Portal, loop_thread: LoopThread) -> None:
    run_with_browser(lambda browser: _scenario(portal, browser, loop_thread))


def _updated(page: Page, ha: FakeHomeAssistant, rssi: int) -> None:
    """The radio level of the awning moves; wait until the page has taken it in."""
    page.evaluate("document.body.removeAttribute('data-live-updated')")
    ha.send(sim.frame("device_update", {"url": AWNING, "changes": {"rssi": rssi}}))
    expect(page.locator("body[data-live-updated]")).to_have_count(1, timeout=15000)
    expect(page.locator(f'tr[data-device="{AWNING}"]')).to_contain_text(f"{rssi} %")


def _scenario(portal: Portal, browser: Browser, loop_thread: LoopThread) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in_as_admin(page, portal)
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    # The PIN field opens a numeric keypad: the PIN typed without its dashes is taken.
    page.goto(portal.url + "/installations/registrations/new")
    assert page.get_by_label("PIN de la box").get_attribute("inputmode") == "numeric"
    with linked_box(
        page, portal, loop_thread, pin=sim.PIN.replace("-", ""), customer_language="en"
    ) as ha:
        page.goto(portal.url + "/installations")
        page.locator("table.list a").first.click()
        devices_url = page.url + "/devices"
        page.goto(devices_url)
        form = page.locator("#live-remote form.remote-request")
        for checkbox in form.get_by_role("checkbox").all():
            checkbox.check()
        form.locator("select[name=hours]").select_option("8")
        form.get_by_role("button").click()
        request = ha.expect("request_remote_service")
        ha.grant(request["payload"]["request_id"], datetime.now(UTC) + timedelta(hours=8), KINDS)
        expect(page.locator("#announcer")).to_contain_text("accordé", timeout=15000)
        page.goto(devices_url)
        page.evaluate("window.__noReload = true")

        # Focus on a product link: the radio level moves, the focus stays on the link.
        link = page.locator(f'tr[data-device="{SHUTTER}"] a').first
        link.focus()
        assert page.evaluate(FOCUSED) == "Living room shutter"
        _updated(page, ha, 41)
        assert page.evaluate(FOCUSED) == "Living room shutter"

        # Focus on "End remote intervention" in the bar: same.
        end = page.locator("#live-remote").get_by_role("link")
        end.focus()
        focused = page.evaluate(FOCUSED)
        _updated(page, ha, 57)
        assert page.evaluate(FOCUSED) == focused
        assert page.evaluate("document.activeElement.closest('#live-remote') !== null")
        assert page.evaluate("window.__noReload") is True

        # A new alert, then the window revoked: both announced politely, in French.
        ha.send(sim.alert("alarm-1", "intrusion", device_url=AWNING))
        ha.expect("ack")
        expect(page.locator("#announcer")).to_have_text(
            "Nouvelle alerte : Intrusion (Door sensor)", timeout=15000
        )
        ha.send(sim.frame("window", {"request_id": None, "state": "revoked"}))
        ha.expect("ack")
        expect(page.locator("#announcer")).to_have_text(
            "Le client a révoqué la fenêtre de service à distance.", timeout=15000
        )
        assert page.locator("#announcer").get_attribute("aria-live") == "polite"
        assert page.evaluate("window.__noReload") is True
    context.close()
