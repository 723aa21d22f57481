"""Guessed link codes are bounded per code and per requester, never against the customer."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import select

from companion_server.app import create_app
from companion_server.core import Core
from companion_server.models import Registration
from companion_server.registration.linking import LINK_PER_IP
from companion_server.settings import Settings
from tests.companion.ha import PIN, registered
from tests.companion.helpers import FakeClock


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    """The portal behind a proxy on 127.0.0.1, so that each client has its own address."""
    return create_app(settings.replace(trusted_proxies=("127.0.0.1",)), clock=clock)


async def _link(server: TestServer, ip: str, code: str, pin: str = PIN) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(headers={"X-Forwarded-For": ip}) as http,
        http.post(
            str(server.make_url("/api/v1/link")),
            json={"code": code, "pin": pin, "instance_id": "ha", "name": "Home"},
        ) as response,
    ):
        return response.status, await response.json()


async def test_a_strangers_guesses_do_not_burn_the_customers_code(
    core: Core, server: TestServer
) -> None:
    # The same box registered by two companies (the customer asked both for an offer).
    first, _ = await registered(core)
    second, _ = await registered(core, PIN, "Other Co", "boss@other.example")
    stranger = "203.0.113.66"
    answers = [await _link(server, stranger, f"ZZZZZ-ZZZ{n:02d}") for n in range(LINK_PER_IP.limit)]
    assert answers == [(400, {"error": "invalid_code"})] * LINK_PER_IP.limit
    # The stranger is now refused outright (bounded per requester)...
    status, body = await _link(server, stranger, first.code)
    assert (status, body) == (429, {"error": "rate_limited"})
    # ...while no pending request of that PIN was charged for them...
    async with core.tx() as db:
        assert list(await db.scalars(select(Registration.failed_attempts))) == [0, 0]
    # ...and the customer's real code still works from their own Home Assistant.
    assert (await _link(server, "198.51.100.7", first.code))[0] == 200
    assert second.code != first.code
