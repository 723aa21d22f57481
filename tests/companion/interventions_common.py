"""Shared setup of the remote-intervention tests: a linked installation and its fake HA."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
import re
from typing import Any

from aiohttp.test_utils import TestServer
from multidict import MultiDict
import pytest
from sqlalchemy import select

from companion_server.app_keys import CORE
from companion_server.core import Core
from companion_server.models import Device, Role
from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant
from tests.companion.helpers import (
    BrowserFactory,
    FakeClock,
    PortalClient,
    eventually,
    mails,
    make_company,
    make_user,
)
from tests.companion.test_mail import SmtpServer, mail_settings, start_portal

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
            page = await self.browser.post(self.base + "/remote-service", request_form())
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

    async def shown() -> bool:
        return text in (await browser.get(path)).text

    await eventually(shown, f"{path} showing {text!r}")


def _field(raw: str, name: str, after: str = "") -> str:
    start = raw.index(after) if after else 0
    match = re.search(rf'name="{name}" value="([^"]*)"', raw[start:])
    assert match, name
    return match.group(1)


async def _post_multi(browser: PortalClient, path: str, fields: list[tuple[str, str]]) -> Any:
    if browser.csrf is None:
        await browser.get(browser.TOKEN_PAGE)
    assert browser.csrf
    return await browser.request("POST", path, data=[*fields, ("csrf_token", browser.csrf)])


def request_form(kinds: list[str] | None = None, hours: int = 8) -> MultiDict[str]:
    """The remote-service request form with the kinds and the duration chosen."""
    form: MultiDict[str] = MultiDict([("kinds", kind) for kind in (kinds or ALL_KINDS)])
    form["hours"] = str(hours)
    return form
