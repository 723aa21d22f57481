"""Live updates keep the keyboard focus, and say what happened in a polite live region.

The installer's keyboard focus is on a product link of the Devices tab, then on "End remote
intervention" in the remote-service bar; the simulated Home Assistant moves a product's
radio level each time: the page updates in place and the focus stays on the same control.
A new alert and the customer revoking the window are announced in #announcer, translated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import re

from playwright.sync_api import Browser, Page, expect

from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant
from tests.companion.interventions_common import AWNING, SHUTTER, devices
from tests.e2e.conftest_portal import Portal, portal, run_with_browser
from tests.e2e.test_portal_intervention import FakeHomeAssistant, sim_kinds
from tests.e2e.test_portal_serv_e_go import (
    ADMIN_EMAIL,
    PASSWORD,
    LoopThread,
    _code,
    _create_admin,
    loop_thread,
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
    _create_admin(portal.database_url)
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(portal.url + "/login")
    page.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/installations$"))
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    page.goto(portal.url + "/installations/registrations/new")
    # The PIN field opens a numeric keypad: the PIN typed without its dashes is taken.
    pin = page.get_by_label("PIN de la box")
    assert pin.get_attribute("inputmode") == "numeric"
    pin.fill(sim.PIN.replace("-", ""))
    page.get_by_label("Adresse e-mail du client").fill("dupont@example.com")
    page.locator("#f-language").select_option("en")  # the customer's e-mail
    page.get_by_role("button", name="Enregistrer et envoyer l'e-mail").click()
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
        ha.grant(
            request["payload"]["request_id"], datetime.now(UTC) + timedelta(hours=8), sim_kinds()
        )
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
    finally:
        loop_thread.run(client.close())
        context.close()
