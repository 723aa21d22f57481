"""The hub: live Home Assistant connections and browser watchers of one portal process.

Everything that must reach a connection or a watcher goes through a bus message: on
SQLite the bus is the process itself; on PostgreSQL it is ``LISTEN``/``NOTIFY`` on one
channel, so that a frame queued by any instance reaches the Home Assistant connected to
another one, and browsers watching an installation on any instance refresh. Messages are
small notices ("installation 7 has frames waiting", "close 7", "7 changed"); the data
itself stays in the database (the ``portal_frames`` outbox).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
import contextlib
from dataclasses import dataclass, field
import json
import logging
from typing import TYPE_CHECKING, Any
import uuid

from sqlalchemy import update
from sqlalchemy.engine import make_url

from companion_server.hub import outbox, protocol
from companion_server.hub.admission import Admission
from companion_server.hub.dispatch import SnapshotParts
from companion_server.hub.presence import STORE_HELD_DIGEST, held_digest
from companion_server.hub.telemetry import TelemetryWriter
from companion_server.models import InstallationState

if TYPE_CHECKING:
    from datetime import datetime

    from aiohttp import web

    from companion_server.core import Core
    from companion_server.hub.dispatch import FrameRegistry

LOGGER = logging.getLogger(__name__)

CHANNEL = "somfy_pro_hub"
CLOSE_REPLACED = 4000
CLOSE_UNLINKED = 4001
CLOSE_GOING_AWAY = 1001
CHANGE_COALESCE_SECONDS = 0.3
CHANGED_PER_MESSAGE = 500
WATCHER_QUEUE = 20
STOP_WAIT_SECONDS = 5.0
PRESENCE_WRITES = 4

Listener = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


@dataclass(eq=False)
class Connection:
    """One live WebSocket of a linked Home Assistant."""

    ws: web.WebSocketResponse
    installation_id: int
    link_id: int
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    ready: bool = False  # ``hello`` answered: new frames are sent as they come
    sent: set[str] = field(default_factory=set)  # portal frame ids sent on this connection
    # Consent as last seen on this connection: it only changes through this connection's
    # frames (hello, consent) or when the link ends, which closes the connection.
    monitoring: str | None = None
    contact_at: datetime | None = None  # when the last contact was last written
    snapshot: SnapshotParts = field(default_factory=SnapshotParts)  # parts received so far
    # The digest of the snapshot whose state the installation's devices hold, as this
    # connection's frames moved them (None: unknown). Stored while it says so, and once
    # updates have moved it, stored again when the connection ends (``mark`` meanwhile).
    snapshot_digest: str | None = None
    marked: bool = False  # a device update of this connection stored its mark
    admitted: bool = True  # its handshake still counts in the hub's accept budget
    admitted_at: float = 0.0  # when its handshake was admitted (the admission's clock)
    # Frames were queued for it before its ``hello`` was answered: flush once it is.
    flush_wanted: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def mark(self) -> str:
        """What stands in the digest's place while this connection streams updates.

        Never a digest (those are 64 hex digits): a snapshot never matches it.
        """
        return "pending:" + self.uid

    async def send(self, text: str) -> bool:
        """Send one frame; False when the socket is gone."""
        if self.ws.closed:
            return False
        try:
            async with self.lock:
                await self.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def close(self, code: int, reason: str) -> None:
        """Close the socket (idempotent)."""
        if not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close(code=code, message=reason.encode())


class LocalBus:
    """One process: messages go straight to the hub."""

    def __init__(self, listener: Listener) -> None:
        """Deliver to ``listener``."""
        self._listener = listener

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def publish(self, message: dict[str, Any]) -> None:
        """Deliver at once."""
        await self._listener(message)


class PostgresBus:
    """Several processes: PostgreSQL ``LISTEN``/``NOTIFY`` on one channel (asyncpg)."""

    RECONNECT_SECONDS = 2.0

    def __init__(self, database_url: str, listener: Listener) -> None:
        """Connect to the database of ``database_url`` (a SQLAlchemy URL)."""
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._listener = listener
        self._listen: Any = None
        self._notify: Any = None
        self._notify_lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_reconnect: Callable[[], Awaitable[None]] | None = None

    async def start(self) -> None:
        """Open the listening connection and watch it."""
        await self._connect_listener()
        self._supervisor = asyncio.create_task(self._supervise(), name="hub-bus")

    async def _connect_listener(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self._listen = await asyncpg.connect(self._dsn)
        await self._listen.add_listener(CHANNEL, self._on_notify)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            LOGGER.warning("Ignoring a malformed hub notification")
            return
        task = asyncio.create_task(self._listener(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(self.RECONNECT_SECONDS)
            if self._listen is not None and not self._listen.is_closed():
                continue
            try:
                await self._connect_listener()
            except Exception:
                LOGGER.warning("Hub: cannot listen on PostgreSQL yet; retrying")
                continue
            LOGGER.info("Hub: listening on PostgreSQL again")
            if self.on_reconnect is not None:
                await self.on_reconnect()

    async def stop(self) -> None:
        """Close both connections."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for conn in (self._listen, self._notify):
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close()
        for task in list(self._tasks):
            task.cancel()

    async def publish(self, message: dict[str, Any]) -> None:
        """``NOTIFY`` every instance (this one included)."""
        import asyncpg

        payload = json.dumps(message, separators=(",", ":"))
        async with self._notify_lock:
            for attempt in (1, 2):
                try:
                    if self._notify is None or self._notify.is_closed():
                        self._notify = await asyncpg.connect(self._dsn)
                    await self._notify.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                    return
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    self._notify = None
                    if attempt == 2:
                        LOGGER.exception("Hub: cannot notify other instances")


class Hub:
    """Live connections, browser watchers, and the bus between portal instances.

    Implements :class:`companion_server.notifier.Notifier` for the services.
    """

    def __init__(self, core: Core, frames: FrameRegistry) -> None:
        """Create the hub of one process (the bus starts with :meth:`start`).

        ``frames``: the handlers of Home Assistant's frames, registered by the areas.
        """
        self.core = core
        self.frames = frames
        self.connections: dict[int, Connection] = {}
        # Browsers watching an installation (its id) or another topic (a text).
        self.watchers: dict[int | str, set[asyncio.Queue[str]]] = {}
        self.handlers: set[asyncio.Task[Any]] = set()
        # Disconnections recorded at once: thousands of homes gone together (a network cut)
        # would otherwise wait for the pool together, and those past its wait bound would
        # leave their installations shown connected.
        self.presence_writes = asyncio.Semaphore(PRESENCE_WRITES)
        self._changed: set[int | str] = set()
        self._changed_timer: asyncio.TimerHandle | None = None
        self.telemetry = TelemetryWriter(core)
        self.frames_received = 0  # since the process started (``/metrics``)
        self.snapshots_unchanged = 0  # as above: snapshots neither validated nor written
        self.admission = Admission(
            core.settings.channel_handshakes,
            core.settings.channel_accept_rate,
            queue_seconds=core.settings.channel_queue_seconds,
        )
        if core.settings.is_sqlite:
            self.bus: LocalBus | PostgresBus = LocalBus(self._on_message)
        else:
            bus = PostgresBus(core.settings.database_url, self._on_message)
            bus.on_reconnect = self._resync
            self.bus = bus

    async def start(self) -> None:
        """Start the bus and the telemetry writer."""
        await self.bus.start()
        self.telemetry.start()

    async def stop(self) -> None:
        """Close every connection and watcher, then the bus."""
        await self.release()
        await self.telemetry.stop()
        await self.bus.stop()

    async def release(self) -> None:
        """Close every Home Assistant connection and end every live-update stream.

        Called when the server starts shutting down, before it waits for requests in
        progress: both kinds of long-lived request would otherwise hold the shutdown for its
        whole timeout. Idempotent (``stop`` calls it again).
        """
        if self.handlers:
            await asyncio.wait(list(self.handlers), timeout=STOP_WAIT_SECONDS)
        if self._changed_timer is not None:
            self._changed_timer.cancel()
        self._changed.clear()
        conns = list(self.connections.values())
        self.connections.clear()
        if conns:
            try:
                async with self.core.tx() as db:
                    await db.execute(
                        update(InstallationState)
                        .where(
                            InstallationState.installation_id.in_(
                                [c.installation_id for c in conns]
                            )
                        )
                        .values(connected=False, connected_changed_at=self.core.now())
                    )
                    held = [
                        held_digest(c.installation_id, c.mark, c.snapshot_digest)
                        for c in conns
                        if c.marked
                    ]
                    if held:
                        await (await db.connection()).execute(STORE_HELD_DIGEST, held)
            except Exception:
                LOGGER.exception("Hub: cannot record the disconnections")
        for conn in conns:
            await conn.close(CLOSE_GOING_AWAY, "portal shutting down")
        for queues in self.watchers.values():
            for queue in queues:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait("")

    # -- what services call after their transaction ------------------------------------

    async def frames_pending(self, installation_id: int) -> None:
        """New frames for an installation's Home Assistant are in the outbox."""
        await self.bus.publish({"t": "flush", "i": installation_id})

    async def close_links(
        self, installation_id: int, links: list[int], reason: str, *, tell_ha: bool = False
    ) -> None:
        """Close the installation's live connection, wherever it is, if it uses ``links``.

        Only those links: the bus may bring the message after the Home Assistant that
        replaced them connected with its new link, which must stay. ``tell_ha``: send it
        an ``unlinked`` frame first (the portal ended the link).
        """
        message = {"t": "close", "i": installation_id, "l": links, "r": reason[:50], "u": tell_ha}
        await self._close_local(message)
        await self.bus.publish(message)

    async def _close_local(self, message: dict[str, Any]) -> None:
        conn = self.connections.get(message["i"])
        if conn is None or conn.link_id not in message.get("l", ()):
            return
        self.detach(conn)
        if message.get("u"):
            await conn.send(protocol.encode("unlinked", {}))
        await conn.close(CLOSE_UNLINKED, str(message.get("r", "closed")))

    async def changed(self, installation_id: int | str) -> None:
        """Browsers watching the installation (or another topic) should refresh.

        Coalesced: every installation changed within ``CHANGE_COALESCE_SECONDS`` goes out
        in one bus message (a few hundred ids each: NOTIFY payloads stay under 8000 bytes).
        """
        self._changed.add(installation_id)
        if self._changed_timer is None:
            loop = asyncio.get_running_loop()
            self._changed_timer = loop.call_later(CHANGE_COALESCE_SECONDS, self._fire_changed)

    def _fire_changed(self) -> None:
        self._changed_timer = None
        ids = sorted(self._changed, key=str)
        self._changed.clear()
        for start in range(0, len(ids), CHANGED_PER_MESSAGE):
            message = {"t": "changed", "ids": ids[start : start + CHANGED_PER_MESSAGE]}
            task = asyncio.get_running_loop().create_task(self.bus.publish(message))
            self.handlers.add(task)
            task.add_done_callback(self.handlers.discard)

    # -- connections ------------------------------------------------------------------

    async def attach(self, conn: Connection) -> None:
        """Make ``conn`` the installation's connection; an older one here is closed.

        One on another instance is closed by :meth:`take_over`, after the ``hello``.
        """
        old = self.connections.get(conn.installation_id)
        self.connections[conn.installation_id] = conn
        if old is not None and old is not conn:
            await old.close(CLOSE_REPLACED, "replaced by a newer connection")

    async def take_over(self, conn: Connection) -> None:
        """Close the installation's other connection on every other instance.

        Only when its ``hello`` found the installation shown connected: after a restart
        most homes come back to an installation shown offline, and a notice each would make
        every instance handle ten thousand of them.
        """
        await self.bus.publish({"t": "takeover", "i": conn.installation_id, "c": conn.uid})

    def detach(self, conn: Connection) -> bool:
        """Forget ``conn``; whether it was still the installation's current connection."""
        if self.connections.get(conn.installation_id) is conn:
            del self.connections[conn.installation_id]
            return True
        return False

    def is_current(self, conn: Connection) -> bool:
        """Whether ``conn`` is the installation's live connection in this process."""
        return self.connections.get(conn.installation_id) is conn

    async def flush(self, conn: Connection) -> None:
        """Send the frames not yet sent on this connection, one message each.

        Read a page at a time: a backlog of thousands of frames neither makes one large
        message nor holds them all in memory.
        """
        if not conn.ready or conn.ws.closed:
            conn.flush_wanted = True
            return
        conn.flush_wanted = False
        after = 0
        while True:
            async with self.core.tx() as db:
                now = self.core.now()
                if after == 0 and await outbox.expire_due(db, conn.installation_id, now):
                    await self.changed(conn.installation_id)
                page = await outbox.pending_page(db, conn.installation_id, now, after)
            for frame in page:
                after = frame.id
                if frame.frame_id in conn.sent:
                    continue
                conn.sent.add(frame.frame_id)
                text = protocol.encode(frame.type, json.loads(frame.payload), frame.frame_id)
                if not await conn.send(text):
                    return
            if len(page) < outbox.PAGE:
                return

    # -- browsers ---------------------------------------------------------------------

    def watch(self, installation_id: int | str) -> asyncio.Queue[str]:
        """A queue receiving a notice whenever the installation (or topic) changes."""
        queue: asyncio.Queue[str] = asyncio.Queue(WATCHER_QUEUE)
        self.watchers.setdefault(installation_id, set()).add(queue)
        return queue

    def unwatch(self, installation_id: int | str, queue: asyncio.Queue[str]) -> None:
        """Stop notifying ``queue``."""
        queues = self.watchers.get(installation_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.watchers[installation_id]

    # -- the bus ----------------------------------------------------------------------

    async def _on_message(self, message: dict[str, Any]) -> None:
        try:
            kind = message.get("t")
            if kind == "changed":
                for changed_id in message.get("ids", ()):
                    for queue in self.watchers.get(changed_id, ()):
                        with contextlib.suppress(asyncio.QueueFull):
                            queue.put_nowait("changed")
                return
            installation_id = message.get("i")
            if type(installation_id) is not int:
                return
            conn = self.connections.get(installation_id)
            if kind == "flush" and conn is not None:
                await self.flush(conn)
            elif kind == "close" and conn is not None:
                await self._close_local(message)
            elif kind == "takeover" and conn is not None and conn.uid != message.get("c"):
                self.detach(conn)
                await conn.close(CLOSE_REPLACED, "replaced by a newer connection")
        except Exception:
            LOGGER.exception("Hub: message %r failed", message)

    async def _resync(self) -> None:
        """After the bus was down: send whatever was queued meanwhile."""
        for conn in list(self.connections.values()):
            await self.flush(conn)
        await self._on_message({"t": "changed", "ids": list(self.watchers)})
