"""Two portal instances on one PostgreSQL database: LISTEN/NOTIFY carries frames and updates.

Home Assistant is connected to instance A; the installer works on instance B.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import itertools
import os

from aiohttp import WSMsgType
from aiohttp.test_utils import TestServer
import pytest

from companion_server.app import create_app
from companion_server.app_keys import CORE, HUB
from companion_server.core import Core
from companion_server.monitoring.services import request_monitoring
from companion_server.registration.linking import unlink_by_installer
from tests.companion import ha as sim
from tests.companion.conftest import fast_settings
from tests.companion.ha import HomeAssistant, registered
from tests.companion.helpers import HANG_GUARD_SECONDS, psql

_counter = itertools.count()


@pytest.fixture
def shared_postgres(postgres_admin_url: str, _postgres_template: str) -> Iterator[str]:
    name = f"portal_bus_{os.getpid()}_{next(_counter)}"
    psql(postgres_admin_url, f"CREATE DATABASE {name} TEMPLATE {_postgres_template}")
    base, _, _ = postgres_admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        psql(postgres_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def instances(shared_postgres: str) -> AsyncIterator[tuple[TestServer, TestServer]]:
    servers = []
    for _ in range(2):
        settings = fast_settings(
            shared_postgres,
        )
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
    try:
        yield servers[0], servers[1]
    finally:
        for server in servers:
            await server.close()


async def test_frames_and_updates_cross_instances(
    instances: tuple[TestServer, TestServer],
) -> None:
    a, b = instances
    core_a: Core = a.app[CORE]
    core_b: Core = b.app[CORE]
    reg, admin_id = await registered(core_b)
    client = HomeAssistant(str(a.make_url("/")))
    try:
        assert (await client.link(reg.code))[0] == 200
        await client.connect()
        await client.hello()
        # A browser watching the installation on instance B.
        queue = b.app[HUB].watch(reg.installation_id)
        # The installer asks on B; the frame reaches Home Assistant on A at once.
        request_id = await request_monitoring(core_b, admin_id, reg.installation_id)
        frame = await client.expect("request_monitoring")
        assert frame["payload"]["request_id"] == request_id
        await client.send(sim.frame("ack", {"id": frame["id"]}))
        await client.send(sim.consent("granted", request_id))
        await client.expect("ack")
        await client.send(sim.alert())
        await client.expect("ack")
        # B's watcher hears about it.
        assert await asyncio.wait_for(queue.get(), HANG_GUARD_SECONDS) == "changed"
        b.app[HUB].unwatch(reg.installation_id, queue)
        assert core_a is not core_b
        # Another connection of the same installation, on B, replaces the one on A.
        ws_a = client.ws
        assert ws_a is not None
        second = HomeAssistant(str(b.make_url("/")))
        second.token = client.token
        try:
            await second.connect()
            await second.hello(monitoring=True)
            message = await ws_a.receive(timeout=HANG_GUARD_SECONDS)
            assert (message.type, message.data) == (WSMsgType.CLOSE, 4000)
            # Unlinked on A: the socket on B closes at once, after an "unlinked" frame.
            await unlink_by_installer(core_a, admin_id, reg.installation_id)
            assert (await second.expect("unlinked"))["payload"] == {}
            message = await second.ws.receive(timeout=HANG_GUARD_SECONDS)  # type: ignore[union-attr]
            assert (message.type, message.data) == (WSMsgType.CLOSE, 4001)
        finally:
            await second.close()
    finally:
        await client.close()
