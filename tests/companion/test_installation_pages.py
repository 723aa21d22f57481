"""The installation pages: registration, Serv-e-go, the tabs, notes, live events."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestServer
from sqlalchemy import select

from companion_server.core import Core
from companion_server.models import Installation, InstallationState, InterventionEntry, Role
from companion_server.monitoring import services
from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant
from tests.companion.helpers import (
    HANG_GUARD_SECONDS,
    BrowserFactory,
    PortalClient,
    mails,
    make_company,
    make_user,
)


async def _admin(core: Core, browsers: BrowserFactory) -> tuple[PortalClient, int]:
    company = await make_company(core, "Acme Installers")
    admin = await make_user(core, company, "boss@acme.example", role=Role.ADMIN, language="en")
    browser = await browsers.new()
    assert (await browser.login("boss@acme.example")).status == 303
    return browser, admin.id


async def _register(browser: PortalClient, pin: str = sim.PIN) -> int:
    page = await browser.post(
        "/installations/registrations",
        {"pin": pin, "email": "Home@Example.com", "language": "fr", "name": "Villa Rose"},
    )
    assert page.status == 303 and page.location is not None, page.text
    assert page.location.endswith("?registered=1")
    return int(page.location.split("/")[2].split("?")[0])


async def test_register_resend_and_list(core: Core, browsers: BrowserFactory) -> None:
    browser, _ = await _admin(core, browsers)
    page = await browser.get("/installations")
    assert "Registration requests" in page.text and "Register a new box" in page.text
    page = await browser.get("/installations/registrations/new")
    assert page.status == 200 and 'name="pin"' in page.text
    page = await browser.post(
        "/installations/registrations", {"pin": "1234-5678", "email": "nope", "language": "en"}
    )
    assert page.status == 400
    assert "1234-5678-9012" in page.text and "Enter a valid e-mail address." in page.text
    installation_id = await _register(browser)
    page = await browser.get(f"/installations/{installation_id}?registered=1")
    assert "Best done now" in page.text and "Waiting for the customer" in page.text
    [mail] = await mails(core, "home@example.com", "box_registration")
    assert mail.language == "fr" and "Paramètres > Appareils et services" in mail.body
    # The same PIN twice in one company.
    page = await browser.post(
        "/installations/registrations", {"pin": sim.PIN, "email": "x@example.com"}
    )
    assert page.status == 409 and "already registered in your company" in page.text
    page = await browser.get("/installations/registrations")
    assert sim.PIN in page.text and "home@example.com" in page.text
    page = await browser.get(f"/installations/{installation_id}/resend")
    assert "home@example.com" in page.text
    page = await browser.post(f"/installations/{installation_id}/resend", {"email": "bad"})
    assert page.status == 400
    page = await browser.post(
        f"/installations/{installation_id}/resend", {"email": "fixed@example.com"}
    )
    assert (page.status, page.location) == (303, "/installations/registrations")
    [resent] = await mails(core, "fixed@example.com", "box_registration")
    assert resent.language == "fr"
    page = await browser.get("/installations/registrations")
    assert "fixed@example.com" in page.text


async def test_tabs_locked_then_open(
    core: Core, browsers: BrowserFactory, server: TestServer
) -> None:
    browser, _admin_id = await _admin(core, browsers)
    installation_id = await _register(browser)
    base = f"/installations/{installation_id}"
    for tab in ("/devices", "/alerts", "/interventions"):
        page = await browser.get(base + tab)
        assert page.status == 200 and "Tab locked" in page.text
        assert "once the customer has entered the validation code" in page.text
    # Serv-e-go before the link: refused with the reason.
    page = await browser.post(base + "/monitoring")
    assert page.status == 409
    code = await _code_of(core)
    ha = HomeAssistant(str(server.make_url("/")))
    try:
        assert (await ha.link(code))[0] == 200
        await ha.connect()
        await ha.hello()
        page = await browser.get(base + "/devices")
        assert "Tab locked" in page.text and "Activate Serv-e-go for this user" in page.text
        page = await browser.post(base + "/monitoring")
        assert page.status == 303
        request = await ha.expect("request_monitoring")
        page = await browser.get(base + "/alerts")
        assert "waiting for the customer's validation" in page.text
        await ha.send(sim.consent("granted", request["payload"]["request_id"]))
        await ha.expect("ack")
        await ha.send(sim.snapshot())
        await ha.send(sim.alert())
        await ha.expect("ack")
        page = await browser.get(base)
        assert "Tab locked" not in page.text and 'data-box="online"' in page.text
        assert 'data-connected="yes"' in page.text and "Up to date" in page.text
        page = await browser.get(base + "/devices")
        assert "Living room shutter" in page.text and "72 %" in page.text
        device_link = page.raw.split(f'href="{base}/devices/')[1].split('"')[0]
        page = await browser.get(f"{base}/devices/{device_link}")
        assert "<svg" in page.raw and "<polyline" in page.raw and "Radio level history" in page.text
        page = await browser.get(base + "/alerts")
        assert 'data-alert="a-1"' in page.raw and "Intrusion" in page.text
        assert f"{base}/devices/" in page.raw  # links to the product
        page = await browser.get(base + "/devices/999999")
        assert page.status == 404
        # Revoked while the tab is being read: the tab shows as it is now, locked.
        alerts = services.alerts

        async def revoked_meanwhile(*args: Any) -> Any:
            async with core.tx() as db:
                state = await db.get(InstallationState, installation_id)
                assert state is not None
                state.monitoring = "revoked"
            return await alerts(*args)

        with patch.object(services, "alerts", revoked_meanwhile):
            page = await browser.get(base + "/alerts")
        assert page.status == 200 and "Tab locked" in page.text
        async with core.tx() as db:
            state = await db.get(InstallationState, installation_id)
            assert state is not None
            state.monitoring = "granted"
        # Revoked in Home Assistant: locked again.
        await ha.send(sim.consent("revoked"))
        await ha.expect("ack")
        page = await browser.get(base + "/devices")
        assert "Tab locked" in page.text and "Revoked by the customer" in page.text
    finally:
        await ha.close()


async def _code_of(core: Core) -> str:
    [mail] = await mails(core, "home@example.com", "box_registration")
    line = next(line for line in mail.body.splitlines() if ":" in line and "-" in line[-6:])
    return line.rsplit(" ", 1)[-1]


async def test_notes_are_private_to_the_company(
    core: Core, browsers: BrowserFactory, server: TestServer
) -> None:
    browser, _ = await _admin(core, browsers)
    installation_id = await _register(browser)
    ha = HomeAssistant(str(server.make_url("/")))
    try:
        await ha.link(await _code_of(core))
        await ha.connect()
        await ha.hello(monitoring=True)
        base = f"/installations/{installation_id}"
        page = await browser.post(base + "/notes", {"note": "  "})
        assert page.status == 400 and "Write the note first." in page.text
        page = await browser.post(base + "/notes", {"note": "Customer prefers mornings."})
        assert page.status == 303
        page = await browser.get(base + "/interventions")
        assert "Customer prefers mornings." in page.text
        assert "Serv-e-go granted by the customer" in page.text
        async with core.tx() as db:
            note = await db.scalar(
                select(InterventionEntry).where(InterventionEntry.kind == "note")
            )
            installation = await db.get(Installation, installation_id)
        assert note is not None and installation is not None
        assert note.private and note.company_id == installation.company_id
        # Another company's administrator never reaches the page.
        other = await make_company(core, "Rival")
        await make_user(core, other, "rival@example.com", role=Role.ADMIN)
        rival = await browsers.new()
        await rival.login("rival@example.com")
        assert (await rival.get(base + "/interventions")).status == 404
        assert (await rival.post(base + "/notes", {"note": "x"})).status == 404
    finally:
        await ha.close()


async def test_alert_settings_page(core: Core, browsers: BrowserFactory) -> None:
    browser, admin_id = await _admin(core, browsers)
    installation_id = await _register(browser)
    base = f"/installations/{installation_id}/alert-settings"
    page = await browser.get(base)
    assert f'name="alert-{admin_id}-intrusion"' in page.raw and "checked" in page.raw
    page = await browser.post(base, {f"alert-{admin_id}-fire": "on", "alert-x-y": "on"})
    assert page.status == 303
    page = await browser.get(base)
    assert f'name="alert-{admin_id}-fire" aria-label' in page.raw
    fire = page.raw.split(f'name="alert-{admin_id}-fire"')[1].split(">")[0]
    intrusion = page.raw.split(f'name="alert-{admin_id}-intrusion"')[1].split(">")[0]
    assert "checked" in fire and "checked" not in intrusion


async def test_live_events_stream(core: Core, browsers: BrowserFactory, server: TestServer) -> None:
    browser, _ = await _admin(core, browsers)
    installation_id = await _register(browser)
    ha = HomeAssistant(str(server.make_url("/")))
    try:
        await ha.link(await _code_of(core))
        async with browser.session.get(
            f"{browser.base_url}/installations/{installation_id}/events"
        ) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            await ha.connect()
            await ha.hello(monitoring=True)
            await ha.send(sim.snapshot())

            async def first_event() -> str:
                while True:
                    line = (await response.content.readline()).decode()
                    if line.startswith("event:"):
                        return line

            assert (
                await asyncio.wait_for(first_event(), HANG_GUARD_SECONDS)
            ).strip() == "event: changed"
        anonymous = await browsers.new()
        page = await anonymous.get(f"/installations/{installation_id}/events")
        assert page.status == 303
    finally:
        await ha.close()


async def test_unlink_from_the_portal(
    core: Core, browsers: BrowserFactory, server: TestServer
) -> None:
    browser, _ = await _admin(core, browsers)
    installation_id = await _register(browser)
    ha = HomeAssistant(str(server.make_url("/")))
    try:
        await ha.link(await _code_of(core))
        page = await browser.get(f"/installations/{installation_id}")
        assert "Unlink the box" in page.text
        page = await browser.post(f"/installations/{installation_id}/unlink")
        assert page.status == 303
        page = await browser.get(f"/installations/{installation_id}")
        assert 'data-registration="unlinked"' in page.raw and "Resend e-mail" in page.text
        page = await browser.post(f"/installations/{installation_id}/unlink")
        assert page.status == 409
    finally:
        await ha.close()
