"""The monitoring centre with every piece real: fixtures and steps shared by its scenarios.

The portal runs in the test's event loop on a clock the test can move (real time plus an
offset, so sockets, sessions and the browser keep working while a call-back wait ends in
an instant); Home Assistant links to it with the code the registration makes, subscribes
in its options flow, and the demo-like operator works the console in headless Chromium.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
import re
from typing import Any

from homeassistant.core import Event, HomeAssistant
from playwright.async_api import Browser, Page, expect
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from companion_server.core import utcnow
from companion_server.models import Company, PortalFrame, Role
from companion_server.registration.services import seed_registration
from custom_components.somfy_pro.centre import EVENT_MONITORING
from custom_components.somfy_pro.const import DOMAIN
from tests.companion.helpers import make_user
from tests.integration.centre_common import subscribe_complete
from tests.integration.common import PIN, entity_id, state_of
from tests.integration.portal_common import manager_of, wait_until
from tests.portal_app import Portal

COMPANY = "Alpes Télésurveillance"
OPERATOR = "olga@alpes-telesurveillance.example"
OPERATOR_PASSWORD = "operator long secret"
LIVE = 20_000  # ms: the box is polled every second, the console updates on push


class ShiftedClock:
    """Real time plus an offset that only the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Centre:
    """Everything a scenario drives: HA's entry, the portal, its clock, the operator's page."""

    hass: HomeAssistant
    entry: MockConfigEntry
    portal: Portal
    clock: ShiftedClock
    page: Page
    events: list[Event[Any]]

    async def ha_phase(self, phase: str) -> None:
        """Wait until HA's case sensor says ``phase``."""
        await wait_until(self.hass, lambda: self.case_sensor() == phase, f"HA's case: {phase}")

    def case_sensor(self) -> str | None:
        return state_of(self.hass, "sensor", f"{PIN}_monitoring_case")

    def case_attributes(self) -> dict[str, Any]:
        state = self.hass.states.get(entity_id(self.hass, "sensor", f"{PIN}_monitoring_case"))
        assert state is not None
        return dict(state.attributes)

    def steps(self) -> list[tuple[str, str, str]]:
        """HA's ``somfy_pro_monitoring`` events so far: (last_action, phase, guard)."""
        return [(e.data["last_action"], e.data["phase"], e.data["guard"]) for e in self.events]

    async def step(self, button: str) -> None:
        """The operator records a step with one of the offered buttons."""
        await self.page.get_by_role("button", name=button, exact=True).click()

    async def portal_phase(self, text: str) -> None:
        await expect(self.page.locator("#case-phase")).to_contain_text(text, timeout=LIVE)

    async def open_case_from_queue(self, kind: str) -> None:
        """The case appears in the open queue by itself; the operator takes it."""
        link = self.page.get_by_role("link", name=re.compile(rf"{kind} #\d+"))
        await expect(link).to_be_visible(timeout=LIVE)
        assert await self.page.evaluate("window.__noReload") is True
        await link.click()
        await self.page.get_by_role("button", name="Take this case").click()
        await expect(self.page.get_by_role("status")).to_contain_text("You are handling this case")

    async def frames_acknowledged(self) -> None:
        """Wait until HA acknowledged every frame the portal queued for it."""
        for _ in range(400):
            if not await self.portal.count(PortalFrame, PortalFrame.acked_at.is_(None)):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("frames still unacknowledged")

    async def to_queue(self) -> None:
        await self.page.goto(self.portal.url + "/centre")
        await self.page.evaluate("window.__noReload = true")

    async def cancel_alarm(self, password: str) -> None:
        await self.hass.services.async_call(
            DOMAIN,
            "cancel_alarm",
            {"config_entry_id": self.entry.entry_id, "password": password},
            blocking=True,
        )


@pytest.fixture
def in_france(hass: HomeAssistant) -> None:
    """Numbers without a country code are French."""
    hass.config.country = "FR"


@pytest.fixture
def shifted_clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
async def centre_portal(tmp_path: Path, shifted_clock: ShiftedClock) -> AsyncIterator[Portal]:
    """The portal on a temporary SQLite file and the test's clock (no mail)."""
    portal = Portal(tmp_path / "portal.db", clock=shifted_clock)
    await portal.start()
    try:
        yield portal
    finally:
        await portal.stop()


@pytest.fixture
async def centre(
    hass: HomeAssistant,
    in_france: None,
    init_integration: MockConfigEntry,
    hass_admin_user: MockUser,
    centre_portal: Portal,
    shifted_clock: ShiftedClock,
    browser: Browser,
) -> AsyncIterator[Centre]:
    """HA linked to the portal and subscribed (first contact, address, duress password);
    the company's operator logged in with the queue open; no script error allowed."""
    entry, portal = init_integration, centre_portal
    registered = await seed_registration(portal.core, pin=PIN, company_name=COMPANY)
    async with portal.core.tx() as db:
        company = await db.get(Company, registered.company_id)
    assert company is not None
    await make_user(
        portal.core,
        company,
        OPERATOR,
        role=Role.OPERATOR,
        name="Olga",
        password=OPERATOR_PASSWORD,
    )
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    assert flow["step_id"] == "link"
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"url": portal.url, "code": registered.code}
    )
    assert result["type"] == "create_entry"
    await wait_until(hass, lambda: manager_of(entry).connected, "the channel")
    await subscribe_complete(hass, entry, hass_admin_user.id)
    await wait_until(hass, lambda: not manager_of(entry).outbox, "the subscription acknowledged")

    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(portal.url + "/login")
    await page.get_by_label("E-mail address").fill(OPERATOR)
    await page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/centre$"))
    await expect(page.get_by_text("No open case.")).to_be_visible()
    await page.evaluate("window.__noReload = true")
    events: list[Event[Any]] = []
    unsub = hass.bus.async_listen(EVENT_MONITORING, events.append)
    try:
        yield Centre(hass, entry, portal, shifted_clock, page, events)
    finally:
        unsub()
        await context.close()
    assert errors == []
