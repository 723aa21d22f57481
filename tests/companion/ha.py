"""A simulated Home Assistant for the portal tests: links with a code, speaks the channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
import json
from typing import Any
import uuid

import aiohttp
from aiohttp.test_utils import TestServer
import pytest

from companion_server.core import Core
from companion_server.models import Role
from companion_server.monitoring.services import request_monitoring
from companion_server.registration.services import Registered, register_box
from tests.companion.helpers import HANG_GUARD_SECONDS, make_company, make_user

PIN = "1234-5678-9012"


def frame(kind: str, payload: dict[str, Any], frame_id: str | None = None) -> dict[str, Any]:
    return {"v": 1, "id": frame_id or str(uuid.uuid4()), "type": kind, "payload": payload}


def hello(pin: str = PIN, monitoring: bool = False) -> dict[str, Any]:
    return frame(
        "hello",
        {"integration_version": "0.5.0", "pin": pin, "monitoring": monitoring, "window": None},
    )


def consent(state: str, request_id: str | None = None) -> dict[str, Any]:
    return frame("consent", {"request_id": request_id, "monitoring": state})


def snapshot(devices: list[dict[str, Any]] | None = None, online: bool = True) -> dict[str, Any]:
    return frame(
        "snapshot",
        {
            "box": {"online": online, "activated": True, "up_to_date": True, "firmware": "2025.1"},
            "devices": devices
            if devices is not None
            else [
                {
                    "url": "io://1234-5678-9012/1",
                    "label": "Living room shutter",
                    "protocol": "io",
                    "ui_class": "RollerShutter",
                    "online": True,
                    "rssi": 72,
                    "rssi_level": "good",
                    "battery": None,
                    "defect": None,
                    "editable": [],
                },
                {
                    "url": "io://1234-5678-9012/2",
                    "label": "Door sensor",
                    "protocol": "io",
                    "ui_class": "ContactSensor",
                    "online": True,
                    "rssi": 40,
                    "rssi_level": "normal",
                    "battery": "normal",
                    "defect": "noDefect",
                    "editable": [],
                },
            ],
        },
    )


def alert(
    alert_id: str = "a-1",
    kind: str = "intrusion",
    active: bool = True,
    frame_id: str | None = None,
    device_url: str = "io://1234-5678-9012/2",
) -> dict[str, Any]:
    return frame(
        "alert",
        {
            "alert_id": alert_id,
            "device_url": device_url,
            "device_label": "Door sensor",
            "type": kind,
            "active": active,
            "at": datetime(2026, 3, 2, 8, 5, tzinfo=UTC).isoformat(),
        },
        frame_id,
    )


async def company_with_admin(
    core: Core, name: str = "Acme Installers", email: str = "boss@acme.example"
) -> tuple[int, int]:
    company = await make_company(core, name)
    admin = await make_user(core, company, email, role=Role.ADMIN)
    return company.id, admin.id


async def registered(
    core: Core, pin: str = PIN, company: str = "Acme Installers", email: str = "boss@acme.example"
) -> tuple[Registered, int]:
    """A registered box (pending) and the administrator who registered it."""
    _, admin_id = await company_with_admin(core, company, email)
    result = await register_box(core, admin_id, pin=pin, customer_email="home@example.com")
    return result, admin_id


class HomeAssistant:
    """The portal side of a Home Assistant: the link call and the WebSocket."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = aiohttp.ClientSession()
        self.token: str | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def link(self, code: str, pin: str = PIN, **extra: Any) -> tuple[int, dict[str, Any]]:
        body = {"code": code, "pin": pin, "instance_id": "ha-1", "name": "Home", **extra}
        async with self.session.post(f"{self.base_url}/api/v1/link", json=body) as response:
            data = await response.json()
            if response.status == 200:
                self.token = data["token"]
            return response.status, data

    async def connect(self, token: str | None = None) -> aiohttp.ClientWebSocketResponse:
        self.ws = await self.session.ws_connect(
            f"{self.base_url}/api/v1/ws",
            headers={"Authorization": f"Bearer {token or self.token}"},
            heartbeat=None,
        )
        return self.ws

    async def send(self, data: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send_str(data if isinstance(data, str) else json.dumps(data))

    async def receive(self, wait: float = HANG_GUARD_SECONDS) -> dict[str, Any]:
        assert self.ws is not None
        message = await self.ws.receive(timeout=wait)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        data: dict[str, Any] = json.loads(message.data)
        return data

    async def expect(self, kind: str, wait: float = HANG_GUARD_SECONDS) -> dict[str, Any]:
        """The next frame of ``kind`` (others are skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            data = await self.receive(max(0.1, deadline - loop.time()))
            if data["type"] == kind:
                return data

    async def hello(self, monitoring: bool = False, pin: str = PIN) -> dict[str, Any]:
        await self.send(hello(pin, monitoring))
        return await self.expect("welcome")

    async def backlog(self) -> list[dict[str, Any]]:
        """The frames sent after the welcome, up to the answer of a probe sent now.

        The portal handles one message at a time and sends the backlog before reading the
        next: the probe (an ``ack`` without its ``id``) is answered after all of it.
        """
        probe = frame("ack", {})
        await self.send(probe)
        frames: list[dict[str, Any]] = []
        while True:
            data = await self.receive()
            if data["type"] == "error" and data["payload"].get("ref") == probe["id"]:
                return frames
            frames.append(data)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.session.close()


Factory = Callable[[], Awaitable[HomeAssistant]]


async def asked_for_monitoring(core: Core, new_ha: Factory) -> tuple[HomeAssistant, int, str]:
    """A linked, welcomed Home Assistant asked for monitoring: client, installation, request."""
    reg, admin_id = await registered(core)
    client = await new_ha()
    assert (await client.link(reg.code))[0] == 200
    await client.connect()
    await client.hello()
    request_id = await request_monitoring(core, admin_id, reg.installation_id)
    await client.expect("request_monitoring")
    return client, reg.installation_id, request_id


@pytest.fixture
async def new_ha(server: TestServer) -> AsyncIterator[Factory]:
    """Opens simulated Home Assistants against the test portal; closes them after the test."""
    opened: list[HomeAssistant] = []

    async def make() -> HomeAssistant:
        client = HomeAssistant(str(server.make_url("/")))
        opened.append(client)
        return client

    try:
        yield make
    finally:
        for client in opened:
            await client.close()
