"""Linking and monitoring end to end, all real: the installer in Chromium, the homeowner in HA.

Register the box in the portal -> the validation code arrives by e-mail -> the homeowner
links the installer in the integration's options -> the installer activates Serv-e-go ->
the homeowner approves in the repair flow -> the Devices tab opens with the radio levels ->
an intrusion raised at the box appears in the Alerts tab (no reload) and the installer is
e-mailed -> the homeowner revokes: the tabs lock again and nothing more arrives.
"""

from __future__ import annotations

import re

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from playwright.async_api import Page, expect
from pytest_homeassistant_custom_component.common import MockConfigEntry

from box_simulator.server import BoxSimulator
from companion_server.models import Alert
from custom_components.somfy_pro.const import DOMAIN
from custom_components.somfy_pro.portal_monitoring import monitoring_issue_id
from tests.e2e.conftest_portal import Mailbox
from tests.integration.common import FRONT_DOOR, MOTION, PIN, SHUTTER, state_of
from tests.integration.portal_common import answer_monitoring_request, manager_of, wait_until
from tests.portal_app import Portal

from .conftest import ADMIN_EMAIL, CODE_RE, COMPANY, CUSTOMER

LIVE_TIMEOUT = 20_000  # ms: the box is polled every second, the page updates on push


async def tab(page: Page, name: str) -> None:
    """Open a tab of the installation page (and wait until it is the page shown)."""
    link = page.get_by_role("navigation", name="Installation details").get_by_role(
        "link", name=re.compile(name)
    )
    await link.click()
    await expect(link).to_have_attribute("aria-current", "page")


async def register_and_link(
    hass: HomeAssistant, entry: MockConfigEntry, page: Page, portal: Portal, mailbox: Mailbox
) -> None:
    """The installer registers the box; the homeowner enters the mailed code in HA."""
    await page.get_by_role("link", name="Registration requests").click()
    await page.get_by_role("link", name="Register a new box").click()
    await page.get_by_label("Box PIN").fill(PIN)
    await page.get_by_label("Customer's e-mail address").fill(CUSTOMER)
    await page.get_by_label("Installation name (optional)").fill("Maison Dupont")
    await page.get_by_role("button", name="Register and send the e-mail").click()
    await expect(page.get_by_role("status")).to_have_text(
        "The box is registered: the customer has been sent the validation code."
    )
    mail = await mailbox.arrival(CUSTOMER, lambda m: "link your Somfy box" in str(m["Subject"]))
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    assert portal.url in body
    match = CODE_RE.search(body)
    assert match, body

    flow = await hass.config_entries.options.async_init(entry.entry_id)
    assert flow["step_id"] == "link"
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"url": portal.url, "code": match.group(1)}
    )
    assert result["type"] == "create_entry"
    await wait_until(hass, lambda: manager_of(entry).connected, "the channel")
    assert state_of(hass, "sensor", f"{PIN}_installer") == COMPANY


async def test_register_link_monitor_alert_revoke(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: BoxSimulator,
    portal: Portal,
    mailbox: Mailbox,
    installer: Page,
) -> None:
    entry, page = init_integration, installer
    await register_and_link(hass, entry, page, portal, mailbox)

    # Serv-e-go requested in the portal: the customer is e-mailed, HA raises a repair issue.
    await page.get_by_role("link", name="Installations").first.click()
    await page.get_by_role("link", name="Maison Dupont").click()
    await expect(page.locator('[data-connected="yes"]')).to_be_visible()
    await page.get_by_role("button", name="Activate Serv-e-go for this user").first.click()
    await expect(page.get_by_role("status")).to_have_text(
        "Serv-e-go is requested: the customer has been asked to validate."
    )
    await mailbox.arrival(CUSTOMER, lambda m: "Serv-e-go" in str(m["Subject"]))
    issue_id = monitoring_issue_id(entry.entry_id)
    await wait_until(
        hass, lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id), "the repair issue"
    )
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["company"] == COMPANY

    # The Devices tab is locked until the homeowner approves; then it opens by itself.
    await tab(page, "Devices")
    await expect(page.get_by_role("heading", name="Tab locked")).to_be_visible()
    await page.evaluate("window.__noReload = true")
    await answer_monitoring_request(hass, entry, "approve")
    shutter = page.locator(f'tr[data-device="{SHUTTER}"]')
    await expect(shutter).to_contain_text("Living room shutter", timeout=LIVE_TIMEOUT)
    rssi = simulator.box.device(SHUTTER).state("core:RSSILevelState")
    await expect(shutter).to_contain_text(f"{rssi} %")
    assert await page.evaluate("window.__noReload") is True

    # The radio level moves at the box: the product's page shows it, with its history.
    await shutter.get_by_role("link", name="Living room shutter").click()
    await expect(page.locator("[data-rssi]")).to_have_attribute("data-rssi", str(rssi))
    simulator.box.set_rssi(SHUTTER, 38)
    await expect(page.locator("[data-rssi]")).to_have_attribute(
        "data-rssi", "38", timeout=LIVE_TIMEOUT
    )
    await page.reload()
    await expect(page.locator("svg polyline")).to_have_count(1)

    # An intrusion at the box: the Alerts tab shows it live, linked to the product.
    await tab(page, "Alerts")
    await expect(page.get_by_text("No alert so far.")).to_be_visible()
    await page.evaluate("window.__noReload = true")
    simulator.box.set_alert(FRONT_DOOR, "intrusion", True)
    row = page.locator("tr[data-alert]")
    await expect(row).to_have_count(1, timeout=LIVE_TIMEOUT)
    await expect(row).to_contain_text("Intrusion")
    await expect(row).to_contain_text("active")
    assert await page.evaluate("window.__noReload") is True
    mail = await mailbox.arrival(ADMIN_EMAIL, lambda m: "Alert" in str(m["Subject"]))
    assert mail["Subject"] == "Alert on Maison Dupont: Intrusion"
    await row.get_by_role("link", name="Intrusion").click()
    await expect(page.get_by_role("heading", name="Front door")).to_be_visible()

    # Revoked in HA: the page locks again by itself, and nothing more arrives.
    await tab(page, "Alerts")
    await page.evaluate("window.__noReload = true")
    await hass.services.async_call(
        DOMAIN, "revoke_monitoring", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await expect(page.get_by_role("heading", name="Tab locked")).to_be_visible(timeout=LIVE_TIMEOUT)
    assert await page.evaluate("window.__noReload") is True
    manager = manager_of(entry)
    simulator.box.set_alert(MOTION, "intrusion", True)
    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor", f"{MOTION}_intrusion") == "on",
        "the motion alert in HA",
    )
    await wait_until(hass, lambda: not manager.outbox, "an empty outbox")
    assert await portal.count(Alert) == 1
