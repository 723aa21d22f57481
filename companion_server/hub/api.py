"""The WebSocket channel of a linked Home Assistant (``GET /api/v1/ws``, docs/protocol.md).

Authenticated by the installation's bearer token (no cookies, no CSRF token: the visitor and
CSRF middlewares skip ``/api/``). Every frame goes through the registry of frame handlers
(``hub.dispatch``) that the app factory wired; ``device_update`` while monitoring is known
granted goes to the telemetry writer first.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
import logging
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.exc import IntegrityError

from companion_server.app_keys import CORE, FRAMES, HUB
from companion_server.db import is_busy
from companion_server.hub import protocol
from companion_server.hub.auth import authenticate, bearer
from companion_server.hub.dispatch import Outcome
from companion_server.hub.hub import Connection, Hub
from companion_server.hub.presence import connection_changed
from companion_server.web import core_of

LOGGER = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0
# A frame the database was too busy for (a lock held past the busy bound: a backup, a burst
# of writers, another process) is handled once more after this pause before it is answered
# ``internal_error``: a lock held a moment then costs Home Assistant nothing, whereas a
# refused frame waits for its resend (an alert, an ack), a whole snapshot (box data) or a
# reconnection (a hello).
BUSY_RETRY_PAUSE = 0.1
# Larger messages are refused by aiohttp (close 1009); up to this size they get an error.
HARD_MAX_MESSAGE = 256 * 1024


class ChannelSocket(web.WebSocketResponse):
    """A WebSocket whose heartbeat stays stopped once it closes.

    aiohttp (3.13.4 on) re-arms the heartbeat on the loop turn after data arrives, even when
    that data is the peer's answer to our close: the socket would keep a ping timer, fired
    later on a closed transport.
    """

    def _reset_heartbeat(self) -> None:
        if not self._closing and not self.closed:
            super()._reset_heartbeat()


routes = web.RouteTableDef()


@routes.get("/api/v1/ws")
async def channel(request: web.Request) -> web.StreamResponse:
    """The WebSocket of one linked installation (a new connection replaces the old one).

    Over the accept budget (``hub.admission``) it waits in line for a place, or, the line
    being long enough already, the answer is ``503`` with ``Retry-After``, before the token is
    even looked at.
    """
    hub = request.app[HUB]
    retry_after = await hub.admission.enter()
    admitted_at = hub.admission.now()
    if retry_after is not None:
        return web.json_response(
            {"error": "busy"}, status=503, headers={"Retry-After": str(retry_after)}
        )
    conn: Connection | None = None
    try:
        auth = await authenticate(core_of(request), bearer(request))
        if auth is None:
            return web.json_response(
                {"error": "invalid_token"}, status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        if request.transport is None:
            # Gone while its token was checked (a storm's impatient client): nothing to
            # upgrade, and an answer nobody reads.
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        ws = ChannelSocket(
            heartbeat=HEARTBEAT_SECONDS, max_msg_size=HARD_MAX_MESSAGE, compress=False
        )
        await ws.prepare(request)
        conn = Connection(ws, auth.installation_id, auth.link_id, admitted_at=admitted_at)
        await _serve(hub, conn)
        return ws
    finally:
        if conn is None or conn.admitted:
            hub.admission.release()


async def _serve(hub: Hub, conn: Connection) -> None:
    ws = conn.ws
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
                _record_disconnection(hub, conn.installation_id, conn.link_id, conn)
            )
            hub.handlers.add(record)
            record.add_done_callback(hub.handlers.discard)
            await asyncio.shield(record)
        await conn.close(1000, "bye")


async def _record_disconnection(
    hub: Hub, installation_id: int, link_id: int, ended: Connection | None = None
) -> None:
    """Record that a Home Assistant went away (``ended``: its connection, digest to store)."""
    held = None
    if ended is not None and ended.marked:
        held = (ended.mark, ended.snapshot_digest)
    try:
        async with hub.presence_writes:
            await connection_changed(hub.core, installation_id, link_id, False, held)
        await hub.changed(installation_id)
    except Exception:
        LOGGER.exception("Installation %s: cannot record the disconnection", installation_id)


async def _handle_text(hub: Hub, conn: Connection, text: str) -> bool:
    """Handle one message; False when the connection must end."""
    hub.frames_received += 1
    known = conn.snapshot_digest if conn.monitoring == "granted" else None
    try:
        frame = protocol.parse_frame(text, known_snapshot=known)
    except protocol.FrameError as err:
        LOGGER.warning(
            "Installation %s: frame refused (%s: %s)", conn.installation_id, err.code, err.message
        )
        await conn.send(protocol.error_frame(err.code, err.message, err.ref))
        return True
    if frame.unchanged:
        hub.snapshots_unchanged += 1
        return True  # the snapshot the devices hold, again: nothing to read or write
    parts = conn.snapshot.copy()
    try:
        try:
            outcome = await _apply(hub, conn, frame)
        except Exception as err:
            if not is_busy(err):
                raise
            LOGGER.info(
                "Installation %s: database busy, %s frame tried again",
                conn.installation_id,
                frame.type,
            )
            # Rolled back: the snapshot parts it counted as received were not stored.
            conn.snapshot = parts.copy()
            await asyncio.sleep(BUSY_RETRY_PAUSE)
            outcome = await _apply(hub, conn, frame)
    except IntegrityError:
        # The same frame recorded at the same moment through another connection.
        outcome = Outcome(
            replies=[protocol.ack_frame(frame.id)] if frame.type in protocol.ACKED else []
        )
    except Exception as err:
        conn.snapshot = parts  # rolled back: no part of it was stored
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
    conn.snapshot_digest = outcome.snapshot_digest
    if outcome.contact_at is not None:
        conn.contact_at = outcome.contact_at
    for reply in outcome.replies:
        await conn.send(reply)
    if outcome.ready:
        conn.ready = True
        if conn.admitted:  # welcomed: the handshake leaves the accept budget
            conn.admitted = False
            hub.admission.release(admitted_at=conn.admitted_at)
    if outcome.takeover:
        await hub.take_over(conn)
    if outcome.queued or (outcome.ready and conn.flush_wanted):
        await hub.flush(conn)
    if outcome.changed:
        await hub.changed(conn.installation_id)
    for topic in outcome.topics:
        await hub.changed(topic)
    if outcome.close is not None:
        hub.detach(conn)
        await conn.close(4001, outcome.close)
        return False
    return True


async def _apply(hub: Hub, conn: Connection, frame: protocol.Frame) -> Outcome:
    """Handle one frame: telemetry through the batch writer, the rest through the registry."""
    if frame.type == "device_update" and conn.monitoring == "granted":
        known = conn.snapshot_digest
        # Unknown until the outcome: a frame cut short by the peer going away may still be
        # written after the connection stored its digest.
        conn.snapshot_digest = None
        conn.marked = True
        outcome = await hub.telemetry.submit(
            conn.link_id, conn.installation_id, frame, conn.contact_at, known, conn.mark
        )
        if outcome is not None:
            return outcome
    return await hub.frames.apply(
        hub.core, conn.link_id, conn.installation_id, frame, conn.snapshot
    )


async def release_hub(app: web.Application) -> None:
    """on_shutdown: free the long-lived requests before the server waits for them."""
    hub = app.get(HUB)
    if hub is not None:
        await hub.release()


async def hub_context(app: web.Application) -> Any:
    """cleanup_ctx: start the hub (and its bus) with the app, close it on shutdown."""
    core = app[CORE]
    hub = Hub(core, app[FRAMES])
    await hub.start()
    app[HUB] = hub
    core.hub = hub
    yield
    core.hub = None
    await hub.stop()
