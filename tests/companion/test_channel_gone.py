"""A Home Assistant that gives up while its token is checked costs no error and no slot."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

from aiohttp import web
import pytest

from companion_server.app import create_app
from companion_server.app_keys import CORE, HUB
from companion_server.core import Core
from companion_server.hub import api
from companion_server.hub.auth import Authenticated
from companion_server.settings import Settings
from tests.companion.ha import HomeAssistant, registered
from tests.companion.helpers import FakeClock


async def test_a_client_gone_before_the_upgrade_is_let_go_quietly(
    settings: Settings,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Served as ``run_app`` serves: a handler goes on when its client goes (the test server
    # would cancel it instead).
    app = create_app(settings, clock=clock)
    runner = web.AppRunner(app, handler_cancellation=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = HomeAssistant(f"http://127.0.0.1:{port}")
    try:
        reg, _ = await registered(app[CORE])
        assert (await client.link(reg.code))[0] == 200
        checking, gone = asyncio.Event(), asyncio.Event()
        authenticate = api.authenticate

        async def slow(core: Core, token: str) -> Authenticated | None:
            checking.set()
            await gone.wait()
            return await authenticate(core, token)

        monkeypatch.setattr(api, "authenticate", slow)
        portal = runner.server
        assert portal is not None
        before = set(portal.connections)  # the link call's, kept alive
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Authorization: Bearer " + str(client.token).encode() + b"\r\n\r\n"
        )
        await writer.drain()
        await asyncio.wait_for(checking.wait(), 10)
        (handler,) = set(portal.connections) - before
        # Reset, as a client giving up on its timeout does.
        writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        writer.close()
        async with asyncio.timeout(10):
            while handler.transport is not None:  # the portal saw it go
                await asyncio.sleep(0.01)
        with caplog.at_level(logging.INFO):
            gone.set()
            hub = app[HUB]
            async with asyncio.timeout(10):
                while hub.admission.handshakes:  # its slot given back
                    await asyncio.sleep(0.01)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert hub.connections == {}
    finally:
        await client.close()
        await runner.cleanup()
