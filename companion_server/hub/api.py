"""The Home Assistant API (``docs/architecture.md``): link, unlink and the WebSocket channel.

JSON in, JSON out; no cookies and no CSRF token (the visitor and CSRF middlewares skip
``/api/``): the link endpoint is protected by the code, the PIN and rate limits, the others
by the installation's bearer token.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.exc import IntegrityError

from companion_server.db import is_busy
from companion_server.errors import RateLimited
from companion_server.hub import protocol
from companion_server.hub.hub import Connection, Hub
from companion_server.monitoring import frames
from companion_server.registration import services
from companion_server.web import core_of

LOGGER = logging.getLogger(__name__)

HUB: web.AppKey[Hub] = web.AppKey("hub", Hub)
HEARTBEAT_SECONDS = 30.0
# Larger messages are refused by aiohttp (close 1009); up to this size they get an error.
HARD_MAX_MESSAGE = 256 * 1024

routes = web.RouteTableDef()


def _json(status: int, body: dict[str, Any], **headers: str) -> web.Response:
    return web.json_response(body, status=status, headers=headers or None)


def bearer(request: web.Request) -> str:
    """The bearer token of a request ("" when none)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _client_ip(request: web.Request) -> str:
    return request.remote or "unknown"


@routes.post("/api/v1/link")
async def link(request: web.Request) -> web.StreamResponse:
    """Exchange a validation code and the box PIN for an installation token."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _json(400, {"error": "invalid_request"})
    if not isinstance(body, dict):
        return _json(400, {"error": "invalid_request"})
    fields = {k: body.get(k) for k in ("code", "pin", "instance_id", "name")}
    if not all(isinstance(fields[k], str) for k in ("code", "pin")):
        return _json(400, {"error": "invalid_request"})
    for key in ("instance_id", "name"):
        if not isinstance(fields[key], str):
            fields[key] = ""
    try:
        result = await services.link(
            core_of(request),
            code=str(fields["code"])[:100],
            pin=str(fields["pin"])[:40],
            instance_id=str(fields["instance_id"]),
            name=str(fields["name"]),
            ip=_client_ip(request),
        )
    except services.LinkRefused:
        return _json(400, {"error": "invalid_code"})
    except RateLimited as err:
        return _json(429, {"error": "rate_limited"}, **{"Retry-After": str(err.retry_after)})
    return _json(
        200,
        {
            "installation_id": result.installation_id,
            "token": result.token,
            "company": {"id": result.company_id, "name": result.company_name},
        },
    )


@routes.post("/api/v1/unlink")
async def unlink(request: web.Request) -> web.StreamResponse:
    """Home Assistant forgets the link; the token stops working at once."""
    installation_id = await services.unlink_by_token(core_of(request), bearer(request))
    if installation_id is None:
        return _json(401, {"error": "invalid_token"}, **{"WWW-Authenticate": "Bearer"})
    return web.Response(status=204)


@routes.get("/api/v1/ws")
async def channel(request: web.Request) -> web.StreamResponse:
    """The WebSocket of one linked installation (a new connection replaces the old one)."""
    core = core_of(request)
    auth = await services.authenticate(core, bearer(request))
    if auth is None:
        return _json(401, {"error": "invalid_token"}, **{"WWW-Authenticate": "Bearer"})
    hub = request.app[HUB]
    ws = web.WebSocketResponse(
        heartbeat=HEARTBEAT_SECONDS, max_msg_size=HARD_MAX_MESSAGE, compress=False
    )
    await ws.prepare(request)
    conn = Connection(ws, auth.installation_id, auth.link_id)
    await hub.attach(conn)  # shown as connected from its ``hello`` on
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                if not await _handle_text(hub, conn, message.data):
                    break
            elif message.type == WSMsgType.BINARY:
                await conn.send(protocol.error_frame("invalid_frame", "frames are JSON text"))
            elif message.type == WSMsgType.ERROR:
                LOGGER.info(
                    "Installation %s: socket error %s", conn.installation_id, ws.exception()
                )
                break
    except asyncio.CancelledError:
        raise
    finally:
        if hub.detach(conn):
            # Shielded: a handler cancelled as its peer goes away still records that Home
            # Assistant is offline (live commands are refused while it is); the hub waits for
            # it when the portal stops.
            record = asyncio.ensure_future(
                _record_disconnection(hub, auth.installation_id, auth.link_id)
            )
            hub.handlers.add(record)
            record.add_done_callback(hub.handlers.discard)
            await asyncio.shield(record)
        await conn.close(1000, "bye")
    return ws


async def _record_disconnection(hub: Hub, installation_id: int, link_id: int) -> None:
    try:
        await frames.connection_changed(hub.core, installation_id, link_id, False)
        await hub.changed(installation_id)
    except Exception:
        LOGGER.exception("Installation %s: cannot record the disconnection", installation_id)


async def _handle_text(hub: Hub, conn: Connection, text: str) -> bool:
    """Handle one message; False when the connection must end."""
    try:
        frame = protocol.parse_frame(text)
    except protocol.FrameError as err:
        LOGGER.warning(
            "Installation %s: frame refused (%s: %s)", conn.installation_id, err.code, err.message
        )
        await conn.send(protocol.error_frame(err.code, err.message, err.ref))
        return True
    try:
        outcome = None
        if frame.type == "device_update" and conn.monitoring == "granted":
            outcome = await hub.telemetry.submit(
                conn.link_id, conn.installation_id, frame, conn.contact_at
            )
        if outcome is None:
            outcome = await frames.apply_frame(
                hub.core, conn.link_id, conn.installation_id, frame, conn.snapshot
            )
    except IntegrityError:
        # The same frame recorded at the same moment through another connection.
        outcome = frames.Outcome(
            replies=[protocol.ack_frame(frame.id)] if frame.type in protocol.ACKED else []
        )
    except Exception as err:
        if is_busy(err):
            LOGGER.warning(
                "Installation %s: database busy, %s frame not handled",
                conn.installation_id,
                frame.type,
            )
        else:
            LOGGER.exception("Installation %s: %s frame failed", conn.installation_id, frame.type)
        await conn.send(
            protocol.error_frame("internal_error", "the frame could not be handled", frame.id)
        )
        # Without a welcome, Home Assistant would wait on this connection for good: closing
        # it makes Home Assistant connect again with its backoff.
        return frame.type != "hello"
    if outcome.monitoring is not None:
        conn.monitoring = outcome.monitoring
    if outcome.contact_at is not None:
        conn.contact_at = outcome.contact_at
    for reply in outcome.replies:
        await conn.send(reply)
    if outcome.ready:
        conn.ready = True
        await hub.flush(conn)
    if outcome.changed:
        await hub.changed(conn.installation_id)
    if outcome.close is not None:
        hub.detach(conn)
        await conn.close(4001, outcome.close)
        return False
    return True


async def hub_context(app: web.Application) -> Any:
    """cleanup_ctx: start the hub (and its bus) with the app, close it on shutdown."""
    from companion_server.web import CORE

    core = app[CORE]
    hub = Hub(core)
    await hub.start()
    app[HUB] = hub
    core.hub = hub
    yield
    core.hub = None
    await hub.stop()
