"""Frame dispatch: the context a frame is applied in, its outcome, and the registry of handlers.

Each area registers the frame types it owns (``<area>/handlers.py``); the app factory wires
them into one :class:`FrameRegistry`, which the hub applies every frame through (one
transaction each). The hub never imports the areas.

Acknowledged frames (``alert``, ``consent``, ``window``, ``action_result``) are recorded once
by id (``received_frames``) and acknowledged again when replayed. ``snapshot``,
``device_update`` and ``alert`` are accepted only while monitoring is granted; otherwise
they are dropped and answered with an ``error``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import bindparam, select

from companion_server.hub import one_write, protocol
from companion_server.models import (
    Company,
    Installation,
    InstallationLink,
    InstallationState,
    Monitoring,
    ReceivedFrame,
)

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from sqlalchemy.sql.selectable import ScalarSelect

    from companion_server.core import Core
    from companion_server.hub.protocol import Frame

# ``last_contact_at`` is written at most this often.
CONTACT_RESOLUTION = timedelta(seconds=5)


@dataclass(slots=True)
class Outcome:
    """What the connection does after a frame: replies, and what changed."""

    replies: list[str] = field(default_factory=list)
    changed: bool = False
    close: str | None = None
    ready: bool = False
    monitoring: str | None = None  # the consent state after the frame
    contact_at: datetime | None = None  # when ``last_contact_at`` was last written
    queued: bool = False  # frames for this Home Assistant were queued: send them
    # Another connection of this installation may still be open, maybe on another instance:
    # tell every instance to close it (a ``hello`` while the installation is shown connected).
    takeover: bool = False
    # Other watchers to tell after the commit (e.g. a company's monitoring console).
    topics: set[int | str] = field(default_factory=set)
    # The digest of the snapshot applied last, as stored after the frame (None: none known).
    snapshot_digest: str | None = None


@dataclass(slots=True)
class SnapshotParts:
    """The parts of one snapshot received so far on one connection.

    A snapshot's parts are sent one after the other on one connection, so this lives with the
    connection: a reconnection starts afresh (Home Assistant sends a new snapshot after
    ``hello``) and the parts of a snapshot cut by it never remove a device.
    """

    snapshot_id: str | None = None
    parts: int = 0
    received: set[int] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)

    def copy(self) -> SnapshotParts:
        """The parts as they are now (kept apart from later changes)."""
        return SnapshotParts(self.snapshot_id, self.parts, set(self.received), set(self.urls))

    def add(self, snapshot_id: str, part: int, parts: int, urls: set[str]) -> set[str] | None:
        """Record one part; the URLs of the whole snapshot once this part completes it."""
        if snapshot_id != self.snapshot_id or parts != self.parts:
            # Another snapshot began: the one in progress can no longer complete.
            self.snapshot_id, self.parts = snapshot_id, parts
            self.received, self.urls = set(), set()
        self.received.add(part)
        self.urls |= urls
        if len(self.received) < parts:
            return None
        complete = self.urls
        self.snapshot_id, self.parts, self.received, self.urls = None, 0, set(), set()
        return complete


@dataclass(slots=True)
class Context:
    """One frame being applied."""

    db: AsyncSession
    core: Core
    now: datetime
    installation: Installation
    state: InstallationState
    link: InstallationLink
    frame: Frame
    outcome: Outcome
    snapshot: SnapshotParts
    # A ``hello``'s: what the areas asked to know of the installation (:meth:`on_hello`).
    facts: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Context], Awaitable[None]]

# What every frame needs, the company too (the welcome names it); built once, bound per frame.
_FRAME_ROWS = (
    select(InstallationLink, Installation, InstallationState, Company)
    .join(Installation, Installation.id == InstallationLink.installation_id)
    .join(Company, Company.id == Installation.company_id)
    .outerjoin(InstallationState, InstallationState.installation_id == Installation.id)
    .where(
        InstallationLink.id == bindparam("link_id"),
        InstallationLink.installation_id == bindparam("installation_id"),
    )
)


class FrameRegistry:
    """The handler of every frame type Home Assistant sends, registered by the areas."""

    def __init__(self) -> None:
        """Nothing registered yet."""
        self.handlers: dict[str, Handler] = {}
        # What areas take from a ``hello`` (the state it carries), in registration order.
        self.hello_parts: list[Handler] = []
        # What they need to know of the installation then, read with the frame's own row.
        self.hello_facts: dict[str, ScalarSelect[Any]] = {}
        self._hello_rows: Select[Any] | None = None
        self._one_write: async_sessionmaker[AsyncSession] | None = None

    def handle(self, frame_type: str, handler: Handler) -> None:
        """Make ``handler`` the one handler of ``frame_type``."""
        if frame_type not in protocol.FROM_HA:
            raise ValueError(f"{frame_type!r} is not a frame Home Assistant sends")
        if frame_type in self.handlers:
            raise ValueError(f"{frame_type!r} has a handler already")
        self.handlers[frame_type] = handler

    def on_hello(
        self, part: Handler | None, facts: dict[str, ScalarSelect[Any]] | None = None
    ) -> None:
        """Run ``part`` on every ``hello`` (after the handshake, before the welcome).

        ``facts``: scalar subqueries on ``bindparam("installation_id")``, read in the same
        query as the frame's row (one round trip per ``hello`` for every area; a restart
        storm is thousands of them), and found in ``Context.facts`` by name. A name given
        twice must name the same SQL.
        """
        for name, fact in (facts or {}).items():
            known = self.hello_facts.get(name)
            if known is not None:
                # Two areas may both ask the same (the box's owner): read it once.
                if str(known) == str(fact):
                    continue
                raise ValueError(f"{name!r} is another fact of hello already")
            self.hello_facts[name] = fact
            self._hello_rows = None
        if part is not None:
            self.hello_parts.append(part)

    def _rows(self, frame_type: str) -> Select[Any]:
        if frame_type != "hello" or not self.hello_facts:
            return _FRAME_ROWS
        if self._hello_rows is None:
            self._hello_rows = _FRAME_ROWS.add_columns(
                *(fact.label(name) for name, fact in self.hello_facts.items())
            )
        return self._hello_rows

    def missing(self, frame_types: Collection[str] = protocol.FROM_HA) -> set[str]:
        """The frame types without a handler."""
        return set(frame_types) - set(self.handlers)

    async def apply(
        self,
        core: Core,
        link_id: int,
        installation_id: int,
        frame: Frame,
        snapshot: SnapshotParts | None = None,
    ) -> Outcome:
        """Apply one validated frame of the installation's Home Assistant.

        ``snapshot``: the snapshot parts received so far on the frame's connection (none: the
        frame is applied on its own, and a snapshot in several parts never completes).

        On PostgreSQL a ``hello`` is first applied without a transaction, which is enough
        when all it writes is the installation's state (:mod:`~companion_server.hub.one_write`).
        """
        if frame.type == "hello" and core.engine.dialect.name == "postgresql":
            if self._one_write is None:
                self._one_write = one_write.sessions(core.engine)
            try:
                return await self._apply(
                    core, self._one_write, link_id, installation_id, frame, snapshot
                )
            except one_write.NeedsTransaction:
                pass
        return await self._apply(core, core.sessionmaker, link_id, installation_id, frame, snapshot)

    async def _apply(
        self,
        core: Core,
        sessions: async_sessionmaker[AsyncSession],
        link_id: int,
        installation_id: int,
        frame: Frame,
        snapshot: SnapshotParts | None,
    ) -> Outcome:
        outcome = Outcome()
        now = core.now()
        async with core.tx(sessions) as db:
            row = (
                await db.execute(
                    self._rows(frame.type),
                    {"link_id": link_id, "installation_id": installation_id},
                )
            ).first()
            if row is None or row[0].revoked_at is not None:
                outcome.close = "unlinked"
                return outcome
            link, installation = row[0], row[1]
            # None when the outer join found no state row.
            state = cast("InstallationState | None", row[2])
            if state is None:
                state = InstallationState(installation_id=installation_id, monitoring="none")
                db.add(state)
            if state.last_contact_at is None or now - state.last_contact_at >= CONTACT_RESOLUTION:
                state.last_contact_at = now
            if frame.type in protocol.ACKED:
                seen = await db.get(ReceivedFrame, (installation_id, frame.id.lower()))
                if seen is not None:
                    outcome.replies.append(protocol.ack_frame(frame.id))
                    return outcome
            if frame.type in protocol.MONITORING_ONLY and state.monitoring != Monitoring.GRANTED:
                outcome.replies.append(
                    protocol.error_frame(
                        "monitoring_not_granted",
                        "monitoring is not granted: box data is not accepted",
                        frame.id,
                    )
                )
                return outcome
            if state.last_contact_at == now:
                outcome.contact_at = now
            ctx = Context(
                db,
                core,
                now,
                installation,
                state,
                link,
                frame,
                outcome,
                snapshot or SnapshotParts(),
                dict(zip(self.hello_facts, row[4:], strict=True)) if frame.type == "hello" else {},
            )
            await self.handlers[frame.type](ctx)
            outcome.monitoring = state.monitoring
            outcome.snapshot_digest = state.snapshot_digest
            if frame.type in protocol.ACKED and outcome.close is None:
                db.add(
                    ReceivedFrame(
                        installation_id=installation_id,
                        frame_id=frame.id.lower(),
                        type=frame.type,
                        received_at=now,
                    )
                )
                outcome.replies.append(protocol.ack_frame(frame.id))
            db.info[one_write.MAY_WRITE] = state
            db.info[one_write.DONE] = True
        return outcome
