"""Remote service, portal side (P13-P23), with a simulated Home Assistant.

The fake Home Assistant speaks the protocol over the real WebSocket: it receives the
``request_remote_service``, ``action`` and ``intervention_ended`` frames the pages cause and
answers with ``window`` and ``action_result`` frames. Mail goes through a real SMTP server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
import re
from typing import Any

from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import select

from companion_server.app_keys import CORE
from companion_server.core import Core
from companion_server.installations.services import assign
from companion_server.interventions.codes import UnreadableCode, parse_scan
from companion_server.interventions.rules import pairable
from companion_server.mail import worker
from companion_server.models import Company, Device, Installation, RemoteAction, Role, User
from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant
from tests.companion.helpers import (
    BrowserFactory,
    FakeClock,
    PortalClient,
    mails,
    make_company,
    make_user,
)
from tests.companion.test_mail import SmtpServer, mail_settings, running_smtp, smtp, start_portal

__all__ = ["running_smtp", "smtp"]

PIN = sim.PIN
SHUTTER = f"io://{PIN}/1"
AWNING = f"io://{PIN}/3"
RTS = f"rts://{PIN}/16712345"
ALL_KINDS = ["parameters", "reboot", "pair_remote", "web_app"]


def devices() -> list[dict[str, Any]]:
    """Two io products with editable parameters (as Home Assistant describes them), one RTS."""
    io_editable = {
        "parameters": {
            "label": {"type": "string", "max_length": 64, "value": "Living room shutter"},
            "my_position": {"type": "int", "min": 0, "max": 100, "value": 50},
        },
        "read_only_reason": None,
    }
    base = {"online": True, "rssi": 70, "rssi_level": "good", "battery": None, "defect": None}
    return [
        {
            **base,
            "url": SHUTTER,
            "label": "Living room shutter",
            "protocol": "io",
            "ui_class": "RollerShutter",
            "position": 100,
            "editable": io_editable,
        },
        {
            **base,
            "url": AWNING,
            "label": "Terrace awning",
            "protocol": "io",
            "ui_class": "Awning",
            "editable": {
                "parameters": {"label": {"type": "string", "max_length": 64, "value": None}},
                "read_only_reason": None,
            },
        },
        {
            **base,
            "url": RTS,
            "label": "Garage door",
            "protocol": "rts",
            "ui_class": "GarageDoor",
            "rssi": None,
            "editable": {"parameters": {}, "read_only_reason": "rts_one_way"},
        },
    ]


@pytest.fixture
async def portal(
    database_url: str, running_smtp: SmtpServer, clock: FakeClock
) -> AsyncIterator[TestServer]:
    server = await start_portal(
        mail_settings(database_url, running_smtp, public_url="http://portal.example"), clock
    )
    try:
        yield server
    finally:
        await server.close()


class Setup:
    """A company, its administrator's browser, a linked and monitored installation."""

    def __init__(
        self, core: Core, browser: PortalClient, ha: HomeAssistant, installation_id: int
    ) -> None:
        self.core = core
        self.browser = browser
        self.ha = ha
        self.installation_id = installation_id
        self.base = f"/installations/{installation_id}"

    async def device_id(self, url: str) -> int:
        page = await self.browser.get(self.base + "/devices")
        match = re.search(
            rf'data-device="{re.escape(url)}".*?name="device_id" value="(\d+)"', page.raw, re.S
        )
        if match:
            return int(match.group(1))
        async with self.core.tx() as db:
            found = await db.scalar(select(Device.id).where(Device.url == url))
        assert found is not None
        return int(found)

    async def grant(
        self, kinds: list[str] | None = None, hours: float = 8, request_id: str | None = None
    ) -> str:
        """Request remote service in the portal and grant it in the fake Home Assistant."""
        if request_id is None:
            page = await self.browser.post(self.base + "/remote-service", {})
            assert page.status == 303, page.text
            request = await self.ha.expect("request_remote_service")
            await self.ha.send(sim.frame("ack", {"id": request["id"]}))
            request_id = request["payload"]["request_id"]
        until: datetime = self.core.now() + timedelta(hours=hours)
        await self.ha.send(
            sim.frame(
                "window",
                {
                    "request_id": request_id,
                    "state": "granted",
                    "until": until.isoformat(),
                    "kinds": kinds if kinds is not None else ALL_KINDS,
                },
            )
        )
        await self.ha.expect("ack")
        return request_id

    async def window(self, state: str) -> None:
        await self.ha.send(sim.frame("window", {"request_id": None, "state": state}))
        await self.ha.expect("ack")

    async def action(self) -> dict[str, Any]:
        """The next ``action`` frame, acknowledged."""
        frame = await self.ha.expect("action")
        await self.ha.send(sim.frame("ack", {"id": frame["id"]}))
        return frame

    async def result(self, action_id: str, ok: bool = True, error: str | None = None) -> None:
        payload: dict[str, Any] = {
            "action_id": action_id,
            "ok": ok,
            "at": self.core.now().isoformat(),
        }
        if error:
            payload["error"] = error
        await self.ha.send(sim.frame("action_result", payload))
        await self.ha.expect("ack")


@pytest.fixture
async def setup(portal: TestServer) -> AsyncIterator[Setup]:
    core: Core = portal.app[CORE]
    company = await make_company(core, "Acme Installers")
    await make_user(core, company, "boss@acme.example", role=Role.ADMIN, name="Alice Boss")
    browsers = BrowserFactory(str(portal.make_url("/")).rstrip("/"))
    browser = await browsers.new()
    assert (await browser.login("boss@acme.example")).status == 303
    page = await browser.post(
        "/installations/registrations",
        {"pin": PIN, "email": "home@example.com", "language": "fr", "name": "Villa Rose"},
    )
    assert page.status == 303 and page.location is not None
    installation_id = int(page.location.split("/")[2].split("?")[0])
    [mail] = await mails(core, "home@example.com", "box_registration")
    code = next(line for line in mail.body.splitlines() if ":" in line and "-" in line[-6:]).rsplit(
        " ", 1
    )[-1]
    ha = HomeAssistant(str(portal.make_url("/")))
    try:
        assert (await ha.link(code))[0] == 200
        await ha.connect()
        await ha.hello(monitoring=True)
        await ha.send(sim.snapshot(devices()))
        await _until_page_shows(browser, f"/installations/{installation_id}/devices", "Garage door")
        yield Setup(core, browser, ha, installation_id)
    finally:
        await ha.close()
        await browsers.close()


async def _until_page_shows(browser: PortalClient, path: str, text: str) -> None:
    """Frames without acknowledgement are applied in the background: wait for them."""
    for _ in range(400):
        page = await browser.get(path)
        if text in page.text:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{path} never showed {text!r}")


def _field(raw: str, name: str, after: str = "") -> str:
    start = raw.index(after) if after else 0
    match = re.search(rf'name="{name}" value="([^"]*)"', raw[start:])
    assert match, name
    return match.group(1)


async def test_remote_intervention_story(setup: Setup, smtp: SmtpServer, clock: FakeClock) -> None:
    browser, base = setup.browser, setup.base
    # P13: the request e-mails the customer and asks Home Assistant (acked frame).
    page = await browser.get(base)
    assert 'data-remote="closed"' in page.raw and "Request remote service" in page.text
    page = await browser.post(base + "/remote-service", {"kinds": "parameters", "hours": "9"})
    assert page.status == 400  # over 8 hours
    page = await browser.post(base + "/remote-service", {})
    assert page.status == 303
    request = await setup.ha.expect("request_remote_service")
    assert request["payload"]["kinds"] == ALL_KINDS and request["payload"]["hours"] == 8
    assert request["payload"]["installer"] == "Alice Boss"
    page = await browser.get(base)
    assert 'data-remote="requested"' in page.raw
    await setup.grant(request_id=request["payload"]["request_id"])
    # P14: the banner with the time left and the granted kinds.
    clock.advance(minutes=20)
    page = await browser.get(base)
    assert 'data-remote="open"' in page.raw and "7:40:00" in page.text
    assert 'data-until="2026-03-02T16:00:00+00:00"' in page.raw
    assert 'data-kind="pair_remote"' in page.raw and "End remote intervention" in page.text
    assert '<script src="/static/remote.js" defer></script>' in page.raw
    # P15: pencils on io products; RTS read-only with the reason.
    page = await browser.get(base + "/devices")
    assert page.raw.count('class="pencil"') == 3  # shutter: name + "my"; awning: name
    assert 'data-read-only="rts_one_way"' in page.raw and "RTS product: one-way radio" in page.text
    shutter = await setup.device_id(SHUTTER)
    form = page.raw[page.raw.index('data-parameter="my_position"') :]
    action_id = _field(form, "action_id")
    page = await browser.post(
        base + "/remote/parameters",
        {
            "action_id": action_id,
            "device_id": str(shutter),
            "parameter": "my_position",
            "value": "101",
        },
    )
    assert page.status == 400 and "out of range" in page.text
    page = await browser.post(
        base + "/remote/parameters",
        {
            "action_id": action_id,
            "device_id": str(shutter),
            "parameter": "my_position",
            "value": "30",
        },
    )
    assert page.status == 303
    frame = await setup.action()
    assert frame["payload"] == {
        "action_id": action_id,
        "kind": "parameters",
        "device_url": SHUTTER,
        "parameter": "my_position",
        "value": 30,
    }
    await setup.result(action_id)
    # The same form posted again (a replayed action id) is refused.
    page = await browser.post(
        base + "/remote/parameters",
        {
            "action_id": action_id,
            "device_id": str(shutter),
            "parameter": "my_position",
            "value": "30",
        },
    )
    assert page.status == 409 and "already sent" in page.text
    page = await browser.get(base + "/interventions")
    assert "Remote action: io parameter" in page.text
    assert "Living room shutter: my_position = 30: ok" in page.text
    # P16: reboot.
    page = await browser.get(base + "/devices")
    reboot_id = _field(page.raw, "action_id", 'action="' + base + '/remote/reboot"')
    assert (await browser.post(base + "/remote/reboot", {"action_id": reboot_id})).status == 303
    frame = await setup.action()
    assert frame["payload"]["kind"] == "reboot" and frame["payload"]["action_id"] == reboot_id
    await setup.result(reboot_id, ok=False, error="box_unreachable")
    # P19-P22: a remote in the installer's hands, scanned by an AZERTY reader on this QWERTY
    # PC, paired to two products; an unreadable scan first.
    page = await browser.get(base + "/remote/pair")
    assert "At the customer's" in page.text and "In my hands" in page.text
    page = await browser.get(base + "/remote/pair?source=installer")
    assert "data-scan" in page.raw
    pair_id = _field(page.raw, "action_id")
    awning = await setup.device_id(AWNING)
    targets = [("devices", str(shutter)), ("devices", str(awning))]
    form = [("action_id", pair_id), ("source", "installer"), ("code", "hello world"), *targets]
    page = await _post_multi(browser, base + "/remote/pair", form)
    assert page.status == 400 and "The scan is unreadable" in page.text
    assert "data-unreadable" in page.raw
    form = [("action_id", pair_id), ("source", "installer"), ("code", "IO.Q%#F@&\n"), *targets]
    page = await _post_multi(browser, base + "/remote/pair", form)
    assert page.status == 303, page.text
    frame = await setup.action()
    assert frame["payload"]["kind"] == "pair_remote"
    assert frame["payload"]["source"] == "installer" and frame["payload"]["code"] == "A53F27"
    assert sorted(frame["payload"]["devices"]) == sorted([SHUTTER, AWNING])
    await setup.result(pair_id)
    # The remote at the customer's: pairing mode on the box.
    page = await browser.get(base + "/remote/pair?source=customer")
    customer_id = _field(page.raw, "action_id")
    page = await browser.post(
        base + "/remote/pair", {"action_id": customer_id, "source": "customer"}
    )
    assert page.status == 303 and page.location == base + "/remote/pair?source=customer"
    frame = await setup.action()
    assert frame["payload"] == {
        "action_id": customer_id,
        "kind": "pair_remote",
        "source": "customer",
    }
    await setup.result(customer_id)
    # P23: the web app, itself recorded as an action; live states; a command through HA.
    page = await browser.post(base + "/remote/web-app")
    assert page.status == 303 and page.location == base + "/remote/web-app"
    frame = await setup.action()
    assert frame["payload"]["kind"] == "web_app"
    await setup.result(frame["payload"]["action_id"])
    page = await browser.get(base + "/remote/web-app")
    assert page.status == 200 and "Terrace awning" in page.text and "70 %" in page.text
    await setup.ha.send(sim.frame("device_update", {"url": SHUTTER, "changes": {"rssi": 41}}))
    await _until_page_shows(browser, base + "/remote/web-app", "41 %")
    page = await browser.post(
        base + "/remote/web-app/command", {"device_id": str(shutter), "command": "close"}
    )
    assert page.status == 303
    frame = await setup.action()
    assert frame["payload"]["kind"] == "web_app" and frame["payload"]["command"] == "close"
    assert frame["payload"]["device_url"] == SHUTTER
    await setup.result(frame["payload"]["action_id"])
    # P17-P18: the summary, the comment, the frame and the customer's e-mail (in French).
    page = await browser.get(base + "/remote/end")
    assert page.status == 200 and page.raw.count("<tr data-action=") == 6
    assert "refused by Home Assistant: box_unreachable" in page.text
    page = await browser.post(base + "/remote/end", {"comment": "New remote: A53F27."})
    assert page.status == 303
    ended = await setup.ha.expect("intervention_ended")
    assert ended["payload"]["comment"] == "New remote: A53F27."
    kinds = [a["kind"] for a in ended["payload"]["actions"]]
    assert kinds == ["parameters", "reboot", "pair_remote", "pair_remote", "web_app", "web_app"]
    await worker.deliver_due(setup.core)
    [message] = [m for m in smtp.inbox.messages if "intervention" in str(m["Subject"])]
    assert message["To"] == "home@example.com"
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert "Acme Installers a terminé l'intervention" in str(message["Subject"])
    assert "Votre application web a été ouverte pendant l'intervention." in body
    assert "Living room shutter: Position « My » (%) = 30 (effectuée)" in body
    assert "télécommande A53F27 appairée à Living room shutter, Terrace awning" in body
    assert "mode appairage sur la box" in body and "Living room shutter: Fermer" in body
    assert "refusée par Home Assistant : box_unreachable" in body
    assert "New remote: A53F27." in body
    # The window is closed on the portal side: the controls are gone, actions refused.
    page = await browser.get(base + "/devices")
    assert "data-parameter=" not in page.raw and "/remote/reboot" not in page.raw
    page = await browser.post(base + "/remote/reboot", {})
    assert page.status == 409 and "No remote-service window is open" in page.text
    page = await browser.get(base + "/interventions")
    assert "Remote intervention ended" in page.text and "Remote service granted" in page.text


async def _post_multi(browser: PortalClient, path: str, fields: list[tuple[str, str]]) -> Any:
    if browser.csrf is None:
        await browser.get(browser.TOKEN_PAGE)
    assert browser.csrf
    return await browser.request("POST", path, data=[*fields, ("csrf_token", browser.csrf)])


async def test_refusals(setup: Setup, clock: FakeClock, portal: TestServer) -> None:
    browser, base = setup.browser, setup.base
    shutter = await setup.device_id(SHUTTER)
    rts = await setup.device_id(RTS)
    # No window.
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    assert (await browser.get(base + "/remote/web-app")).status == 409
    assert (await browser.get(base + "/remote/end")).status == 409
    # Expired on the portal's clock (time moved on).
    await setup.grant(hours=0.25)
    assert (await browser.get(base + "/devices")).raw.count('class="pencil"') == 3
    clock.advance(minutes=15, seconds=1)
    page = await browser.get(base + "/devices")
    assert "data-parameter=" not in page.raw
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    assert 'data-remote="closed"' in (await browser.get(base)).raw
    # Revoked in Home Assistant mid-session.
    await setup.grant()
    assert (await browser.post(base + "/remote/reboot", {})).status == 303
    await setup.action()
    await setup.window("revoked")
    page = await browser.post(base + "/remote/reboot", {})
    assert page.status == 409
    page = await browser.get(base)
    assert 'data-last-window="revoked"' in page.raw
    # The web app, open meanwhile: its live update is told to leave (the page says why).
    assert (await browser.get(base + "/remote/web-app")).status == 409
    live = {"X-Live-Update": "1"}
    assert (await browser.get(base + "/remote/web-app", headers=live)).status == 204
    assert (await browser.get(base + "/devices", headers=live)).status == 200
    # A kind not granted; an RTS parameter; a parameter the product does not have.
    await setup.grant(kinds=["reboot"])
    page = await browser.get(base + "/devices")
    assert "data-parameter=" not in page.raw and "/remote/pair" not in page.raw
    form = {"device_id": str(shutter), "parameter": "label", "value": "x"}
    page = await browser.post(base + "/remote/parameters", form)
    assert page.status == 409 and "did not allow this kind" in page.text
    assert (await browser.get(base + "/remote/web-app")).status == 409
    assert (await browser.post(base + "/remote/web-app")).status == 409
    assert (await browser.get(base + "/remote/pair")).status == 409
    await setup.window("revoked")
    await setup.grant()
    page = await browser.post(
        base + "/remote/parameters", {"device_id": str(rts), "parameter": "label", "value": "x"}
    )
    assert page.status == 409 and "RTS product" in page.text
    page = await browser.post(
        base + "/remote/parameters", {"device_id": str(shutter), "parameter": "pin", "value": "1"}
    )
    assert page.status == 409
    # A forged action id (not a UUID) and a replayed one.
    page = await browser.post(base + "/remote/reboot", {"action_id": "1 OR 1=1"})
    assert page.status == 409 and "not valid any more" in page.text
    good = "0b7d0f5e-4f7c-4b8e-9a51-2f3f1c0e9d11"
    assert (await browser.post(base + "/remote/reboot", {"action_id": good})).status == 303
    assert (await browser.post(base + "/remote/reboot", {"action_id": good})).status == 409
    assert (await setup.action())["payload"]["action_id"] == good
    # A result for an action this box never got is refused; a replayed result is ignored.
    await setup.ha.send(
        sim.frame(
            "action_result",
            {
                "action_id": "4c7ad2a8-8f7e-4f1e-8e43-4b8d1f0a3c55",
                "ok": True,
                "at": "2026-03-02T09:00:00+00:00",
            },
        )
    )
    error = await setup.ha.expect("error")
    assert error["payload"]["code"] == "unknown_action"
    await setup.result(good)
    await setup.result(good, ok=False, error="late")
    async with setup.core.tx() as db:
        action = await db.scalar(select(RemoteAction).where(RemoteAction.action_id == good))
    assert action is not None and action.ok is True
    # Another company's administrator: 404 everywhere.
    other = await make_company(setup.core, "Rival")
    await make_user(setup.core, other, "rival@example.com", role=Role.ADMIN)
    rival = PortalClient(browser.base_url)
    try:
        assert (await rival.login("rival@example.com")).status == 303
        for path in ("/remote/reboot", "/remote/web-app", "/remote/end", "/remote-service"):
            assert (await rival.post(base + path, {})).status == 404, path
        for path in ("/remote/web-app", "/remote/pair", "/remote/end"):
            assert (await rival.get(base + path)).status == 404, path
        async with setup.core.tx() as db:
            count = len(list(await db.scalars(select(RemoteAction))))
        assert count == 2
    finally:
        await rival.close()


async def test_installer_sees_only_assigned(setup: Setup) -> None:
    async with setup.core.tx() as db:
        installation = await db.get(Installation, setup.installation_id)
        assert installation is not None
        company = await db.get(Company, installation.company_id)
        admin_id = await db.scalar(select(User.id).where(User.email == "boss@acme.example"))
    assert company is not None and admin_id is not None
    installer = await make_user(setup.core, company, "ian@acme.example")
    await setup.grant()
    client = PortalClient(setup.browser.base_url)
    try:
        assert (await client.login("ian@acme.example")).status == 303
        assert (await client.post(setup.base + "/remote/reboot", {})).status == 404
        await assign(setup.core, admin_id, setup.installation_id, installer.id, "127.0.0.1")
        assert (await client.post(setup.base + "/remote/reboot", {})).status == 303
        frame = await setup.action()
        assert frame["payload"]["kind"] == "reboot"
    finally:
        await client.close()


async def test_grant_from_home_assistant_without_request_and_declined(setup: Setup) -> None:
    browser, base = setup.browser, setup.base
    # The homeowner opens a window with the service (no request from the portal).
    await setup.grant(kinds=["web_app"], hours=2, request_id="")
    page = await browser.get(base)
    assert 'data-remote="open"' in page.raw and "2:00:00" in page.text
    assert 'data-kind="web_app"' in page.raw and 'data-kind="reboot"' not in page.raw
    await setup.window("expired")
    assert 'data-last-window="expired"' in (await browser.get(base)).raw
    # A request the customer declines.
    assert (await browser.post(base + "/remote-service", {"kinds": "reboot"})).status == 303
    request = await setup.ha.expect("request_remote_service")
    assert request["payload"]["kinds"] == ["reboot"]
    await setup.ha.send(
        sim.frame("window", {"request_id": request["payload"]["request_id"], "state": "declined"})
    )
    await setup.ha.expect("ack")
    page = await browser.get(base)
    assert 'data-last-window="declined"' in page.raw
    [mail] = await mails(setup.core, "home@example.com", "remote_service_request")
    assert mail.language == "fr" and "Redémarrer la box" in mail.body


@pytest.mark.parametrize(
    ("typed", "address", "layout"),
    [
        ("E53F27", "E53F27", None),
        ("IO:E53F27\r\n", "E53F27", None),
        ("SOMFY;IO:A53F27;SN:12345678", "A53F27", None),
        ("https://somfy.example/r?sn=7&io=00E53F27", "00E53F27", None),
        ("IO.Q%#F@&", "A53F27", "azerty-on-qwerty"),  # AZERTY reader, QWERTY PC
        ('IO:E("Féè', "E53F27", "qwerty-on-azerty"),  # QWERTY reader, AZERTY PC
        ("IO>E53F27", "E53F27", "qwertz-on-qwerty"),  # QWERTZ reader, QWERTY PC
        ("IOÖA53F27", "A53F27", "qwerty-on-qwertz"),  # QWERTY reader, QWERTZ PC
    ],
)
def test_scanned_codes(typed: str, address: str, layout: str | None) -> None:
    scan = parse_scan(typed)
    assert (scan.address, scan.layout) == (address, layout)


@pytest.mark.parametrize(
    "typed",
    ["", "   \n", "hello", "IO:Q53F2", "12345678;ABCDEF12", "IO:E53F27;IO:E53F28", "x" * 600],
)
def test_unreadable_codes(typed: str) -> None:
    with pytest.raises(UnreadableCode):
        parse_scan(typed)


async def test_hello_reports_the_current_window(setup: Setup, clock: FakeClock) -> None:
    """After a reconnection, the window Home Assistant reports in ``hello`` is the truth."""
    browser, base = setup.browser, setup.base
    await setup.grant()
    assert 'data-remote="open"' in (await browser.get(base)).raw
    # Home Assistant reconnects without a window (revoked while the portal was unreachable).
    await setup.ha.send(sim.hello(monitoring=True))
    await setup.ha.expect("welcome")
    page = await browser.get(base)
    assert 'data-last-window="revoked"' in page.raw
    # The web app, open meanwhile: its live update is told to leave (the page says why).
    assert (await browser.get(base + "/remote/web-app")).status == 409
    live = {"X-Live-Update": "1"}
    assert (await browser.get(base + "/remote/web-app", headers=live)).status == 204
    assert (await browser.get(base + "/devices", headers=live)).status == 200
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    # ... and with one the portal did not know of (granted meanwhile).
    hello = sim.hello(monitoring=True)
    until = clock.now + timedelta(hours=2)
    hello["payload"]["window"] = {"until": until.isoformat(), "kinds": ["reboot", "bogus"]}
    await setup.ha.send(hello)
    await setup.ha.expect("welcome")
    page = await browser.get(base)
    assert 'data-remote="open"' in page.raw and "2:00:00" in page.text
    assert 'data-kind="reboot"' in page.raw and "bogus" not in page.raw
    assert (await browser.post(base + "/remote/reboot", {})).status == 303
    assert (await setup.action())["payload"]["kind"] == "reboot"


async def test_remote_at_the_customers_then_paired(setup: Setup) -> None:
    """Pairing mode, the customer presses PROG, the remote appears, then it is paired."""
    browser, base = setup.browser, setup.base
    await setup.grant(kinds=["pair_remote"])
    remote = {
        "url": f"io://{PIN}/7788990",
        "label": "Kitchen remote",
        "protocol": "io",
        "ui_class": "RemoteController",
        "online": True,
        "editable": {"parameters": {}, "read_only_reason": "no_editable_parameter"},
    }
    await setup.ha.send(sim.snapshot([*devices(), remote]))
    await _until_page_shows(browser, base + "/remote/pair?source=customer", "Kitchen remote")
    page = await browser.get(base + "/remote/pair?source=customer")
    remote_id = re.search(r'name="remote_id"><option value="(\d+)"', page.raw)
    assert remote_id is not None
    awning = await setup.device_id(AWNING)
    rts = await setup.device_id(RTS)
    form = [("source", "customer"), ("remote_id", remote_id.group(1))]
    # Neither an RTS product nor a product that does not move or switch (the remote itself).
    for target in (rts, int(remote_id.group(1))):
        page = await _post_multi(browser, base + "/remote/pair", [*form, ("devices", str(target))])
        assert page.status == 409 and "io products that move or switch only" in page.text
    page = await _post_multi(browser, base + "/remote/pair", form)
    assert page.status == 400 and "Choose at least one product." in page.text
    page = await _post_multi(browser, base + "/remote/pair", [*form, ("devices", str(awning))])
    assert page.status == 303
    frame = await setup.action()
    assert frame["payload"]["remote_url"] == remote["url"]
    assert frame["payload"]["devices"] == [AWNING] and frame["payload"]["source"] == "customer"


async def test_cover_position_shown_and_updated_live(setup: Setup) -> None:
    """The product's page and the customer's web app show a cover's position as it changes."""
    browser, base = setup.browser, setup.base
    product = f"{base}/devices/{await setup.device_id(SHUTTER)}"
    assert 'data-position="100">100 % closed</dd>' in (await browser.get(product)).raw
    page = await browser.get(f"{base}/devices/{await setup.device_id(AWNING)}")
    assert "Terrace awning" in page.text and "data-position" not in page.raw
    await setup.grant(kinds=["web_app"])
    page = await browser.get(base + "/remote/web-app")
    assert '<span data-state="position">100 % closed</span>' in page.raw
    await setup.ha.send(sim.frame("device_update", {"url": SHUTTER, "changes": {"position": 35}}))
    await _until_page_shows(browser, base + "/remote/web-app", "35 % closed")
    assert 'data-position="35">35 % closed</dd>' in (await browser.get(product)).raw
    await browser.post("/language", {"language": "fr", "next": "/"})
    assert "fermé à 35 %" in (await browser.get(product)).text


async def test_end_after_the_window_lapsed(setup: Setup, clock: FakeClock) -> None:
    """Revoked with actions done: the installer still ends it, the customer gets the summary."""
    browser, base = setup.browser, setup.base
    await setup.grant(kinds=["reboot"], hours=0.25)
    clock.advance(minutes=16)
    page = await browser.get(base)
    assert "data-lapsed" not in page.raw  # expired without any action: nothing to end
    assert 'data-last-window="granted"' in page.raw
    assert (await browser.get(base + "/remote/end")).status == 409
    await setup.grant(kinds=["reboot"])
    assert (await browser.post(base + "/remote/reboot", {})).status == 303
    await setup.result((await setup.action())["payload"]["action_id"])
    await setup.window("revoked")
    page = await browser.get(base)
    assert "data-lapsed" in page.raw and 'data-last-window="revoked"' in page.raw
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    page = await browser.get(base + "/remote/end")
    assert page.status == 200 and page.raw.count("<tr data-action=") == 1
    assert (await browser.post(base + "/remote/end", {"comment": ""})).status == 303
    ended = await setup.ha.expect("intervention_ended")
    assert [a["kind"] for a in ended["payload"]["actions"]] == ["reboot"]
    [mail] = await mails(setup.core, "home@example.com", "intervention_ended")
    assert "Redémarrer la box" in mail.body and "Commentaire" not in mail.body
    page = await browser.get(base)
    assert "data-lapsed" not in page.raw
    assert (await browser.post(base + "/remote/end", {})).status == 409


@pytest.mark.parametrize(
    ("stopped_minutes", "guessed", "requested"),
    [
        (61, "expired", True),
        # Granted with the service (no request), and Home Assistant's clock is ahead.
        (30, "revoked", False),
    ],
)
async def test_window_expired_while_home_assistant_was_stopped(
    setup: Setup, clock: FakeClock, stopped_minutes: int, guessed: str, requested: bool
) -> None:
    """A ``hello`` without the window closes it on a guess; the ``window`` frame is the truth."""
    browser, base = setup.browser, setup.base
    request_id = await setup.grant(hours=1, request_id=None if requested else "")
    until = clock.now + timedelta(hours=1)
    assert "/remote/reboot" in (await browser.get(base + "/devices")).raw
    assert setup.ha.ws is not None
    await setup.ha.ws.close()
    clock.advance(minutes=stopped_minutes)
    assert (await browser.login("boss@acme.example")).status == 303  # idle session ended
    await setup.ha.connect()
    await setup.ha.hello(monitoring=True)
    assert f'data-last-window="{guessed}"' in (await browser.get(base)).raw
    expired = sim.frame(
        "window",
        {
            "request_id": request_id or None,
            "state": "expired",
            "until": until.isoformat(),
            "kinds": ALL_KINDS,
        },
    )
    for _ in range(2):  # sent again after a reconnection: recorded once
        await setup.ha.send(expired)
        assert (await setup.ha.expect("ack"))["payload"]["id"] == expired["id"]
    page = await browser.get(base)
    assert 'data-remote="closed"' in page.raw and 'data-last-window="expired"' in page.raw
    page = await browser.get(base + "/devices")
    assert "data-parameter=" not in page.raw and "/remote/reboot" not in page.raw
    assert (await browser.post(base + "/remote/reboot", {})).status == 409
    page = await browser.get(base + "/interventions")
    assert page.raw.count('data-entry="window_expired"') == 1


@pytest.mark.parametrize(
    ("protocol", "ui_class", "expected"),
    [
        ("io", "RollerShutter", True),
        ("io", "GarageDoor", True),
        ("io", "Light", True),
        ("io", "ContactSensor", False),
        ("io", "OccupancySensor", False),
        ("io", "SmokeSensor", False),
        ("io", "RemoteController", False),
        ("rts", "RollerShutter", False),
    ],
)
def test_remotes_pair_to_io_products_that_move_or_switch(
    protocol: str, ui_class: str, expected: bool
) -> None:
    device = Device(url="io://1234-5678-9012/1", label="x", protocol=protocol, ui_class=ui_class)
    assert pairable(device) is expected
