"""A minimal installer portal speaking protocol version 1, for the channel's edge cases.

The real portal (``companion_server``) is used wherever it can say what is being tested;
this peer exists for what the real portal never does: malformed and unknown frames,
oversized messages, acknowledgements withheld, a connection cut on purpose.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
import uuid

from aiohttp import WSMsgType, web

ACKED = {
    "alert",
    "consent",
    "window",
    "action_result",
    "centre_subscription",
    "centre_alarm",
    "centre_owner",
}


def frame(frame_type: str, payload: dict[str, Any], frame_id: str | None = None) -> dict[str, Any]:
    """A portal frame."""
    return {"v": 1, "id": frame_id or str(uuid.uuid4()), "type": frame_type, "payload": payload}


class FakePortal:
    """``/api/v1/link``, ``/api/v1/unlink`` and ``/api/v1/ws`` on 127.0.0.1."""

    TOKEN = "installation-token-" + "0" * 43
    COMPANY = {"id": 7, "name": "Acme Installers"}

    def __init__(self) -> None:
        """Nothing received yet."""
        self.received: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.link_requests: list[dict[str, Any]] = []
        self.unlink_requests = 0
        self.link_status = 200
        self.valid_tokens = {self.TOKEN}
        self.auto_ack = True
        self.pending: list[dict[str, Any]] = []
        self.welcome_extra: dict[str, Any] = {}  # more fields of the welcome
        self.connections = 0
        self.ws: web.WebSocketResponse | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        app = web.Application()
        app.router.add_post("/api/v1/link", self._link)
        app.router.add_post("/api/v1/unlink", self._unlink)
        app.router.add_get("/api/v1/ws", self._channel)
        self._app = app

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        """Listen (on ``port`` again after a stop)."""
        self._runner = web.AppRunner(self._app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port or self.port)
        await site.start()
        if not self.port:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self.ws is not None:
            await self.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _link(self, request: web.Request) -> web.StreamResponse:
        self.link_requests.append(await request.json())
        if self.link_status == 400:
            return web.json_response({"error": "invalid_code"}, status=400)
        if self.link_status != 200:
            return web.json_response({"error": "x"}, status=self.link_status)
        return web.json_response(
            {"installation_id": 42, "token": self.TOKEN, "company": self.COMPANY}
        )

    async def _unlink(self, request: web.Request) -> web.StreamResponse:
        self.unlink_requests += 1
        self.valid_tokens.discard(request.headers.get("Authorization", "")[7:])
        return web.Response(status=204)

    async def _channel(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization", "")[7:] not in self.valid_tokens:
            return web.json_response({"error": "invalid_token"}, status=401)
        ws = web.WebSocketResponse(max_msg_size=1024 * 1024)
        await ws.prepare(request)
        self.ws = ws
        self.connections += 1
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                break
            self.raw.append(message.data)
            received = json.loads(message.data)
            self.received.append(received)
            if received["type"] == "hello":
                await ws.send_json(
                    frame(
                        "welcome",
                        {
                            "installation_id": 42,
                            "company": self.COMPANY,
                            "pending": self.pending,
                        }
                        | self.welcome_extra,
                    )
                )
            elif received["type"] in ACKED and self.auto_ack:
                await ws.send_json(frame("ack", {"id": received["id"]}))
        if self.ws is ws:
            self.ws = None
        return ws

    async def send(self, data: dict[str, Any] | str) -> None:
        """Send a frame (or any text) to the connected Home Assistant."""
        assert self.ws is not None
        await self.ws.send_str(data if isinstance(data, str) else json.dumps(data))

    def of_type(self, frame_type: str) -> list[dict[str, Any]]:
        """Frames received of one type."""
        return [f for f in self.received if f["type"] == frame_type]

    async def drop(self) -> None:
        """Cut the current connection."""
        if self.ws is not None:
            await self.ws.close()
            await asyncio.sleep(0)
