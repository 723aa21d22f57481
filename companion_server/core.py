"""The portal's runtime core: settings, database, clock and password hasher.

Service functions take a :class:`Core` first; the web handlers, the CLI, the tests and the
benchmark all drive the portal through them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from companion_server.db import create_engine
from companion_server.security.passwords import PasswordHasher

if TYPE_CHECKING:
    from companion_server.notifier import Notifier
    from companion_server.settings import Settings

Clock = Callable[[], datetime]

MAIL_PENDING = "mail_pending"
AFTER_COMMIT = "after_commit"


def after_commit(db: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` once the transaction of ``db`` committed (never if it rolls back)."""
    db.info.setdefault(AFTER_COMMIT, []).append(callback)


def utcnow() -> datetime:
    """The real clock (aware UTC)."""
    return datetime.now(UTC)


@dataclass(slots=True)
class Core:
    """Shared state of one portal process."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    passwords: PasswordHasher
    clock: Clock = utcnow
    mail_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # The Home Assistant hub of a running app (None in the CLI and plain service calls).
    hub: Notifier | None = None
    # Sessions of :meth:`reads` (None: ``sessionmaker``'s).
    reader: async_sessionmaker[AsyncSession] | None = None

    def now(self) -> datetime:
        """The current time (tests move a fake clock)."""
        return self.clock()

    @asynccontextmanager
    async def tx(
        self, sessions: async_sessionmaker[AsyncSession] | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One database transaction; commits on success, rolls back on error.

        Never hold two at once and never wait on the network inside one: on SQLite, a
        transaction that writes holds the database's only write lock until it ends. Mail
        queued inside wakes the mail worker after the commit; work registered with
        :func:`after_commit` runs then too, in order. ``sessions``: another kind than
        :attr:`sessionmaker`'s.
        """
        async with (sessions or self.sessionmaker)() as session:
            async with session.begin():
                yield session
            if session.info.pop(MAIL_PENDING, False):
                self.mail_wakeup.set()
            for callback in session.info.pop(AFTER_COMMIT, []):
                await callback()

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[AsyncSession]:
        """Statements that read (or each write alone), with no transaction around them.

        On PostgreSQL, a transaction costs two more round trips (``BEGIN``, ``COMMIT``), a
        third of a list page's: in READ COMMITTED each statement sees what was committed
        when it starts whether or not it runs in a transaction, so statements that need
        nothing undone together read the same without one. SQLite opens no transaction
        for reads anyway (:func:`~companion_server.db.create_engine`).
        """
        async with (self.reader or self.sessionmaker)() as session, session.begin():
            yield session

    async def close(self) -> None:
        """Release the database connections."""
        await self.engine.dispose()


def build_core(settings: Settings, clock: Clock | None = None) -> Core:
    """Create the core (no I/O yet: connections open on first use)."""
    engine = create_engine(settings.database_url, settings.database_busy_seconds)
    return Core(
        settings=settings,
        engine=engine,
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        reader=(
            async_sessionmaker(
                engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            )
            if engine.dialect.name == "postgresql"
            else None
        ),
        passwords=PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        clock=clock or utcnow,
    )
