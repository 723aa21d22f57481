"""Database engine, transactions and migrations (SQLAlchemy 2 async + Alembic)."""

from __future__ import annotations

import asyncio
from pathlib import Path
import re
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_only

from companion_server.sqlite_adapter import one_trip_dbapi

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant: serialises migrations of several instances starting at once on PostgreSQL.
_MIGRATION_LOCK_ID = 4_842_117_001
DEFAULT_BUSY_SECONDS = 3.0
# PostgreSQL: lock_timeout expired (SQLSTATE 55P03).
_PG_LOCK_NOT_AVAILABLE = "55P03"
# The statements before which Python's sqlite3 opens a transaction: SQLite's write lock is
# taken there and held until the commit or rollback.
_SQLITE_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


# Tables the database keeps beside the models: revision 0025's FTS5 index of the
# installations' search (SQLite) and its shadow tables, written by triggers alone.
_UNMODELLED_PREFIX = "installations_search"


def modelled(name: str | None, type_: str, _parents: Any) -> bool:
    """Whether schema comparison (autogenerate, the schema test) considers this object."""
    return not (type_ == "table" and name is not None and name.startswith(_UNMODELLED_PREFIX))


def create_engine(database_url: str, busy_seconds: float = DEFAULT_BUSY_SECONDS) -> AsyncEngine:
    """Create the engine: waiting for a lock or a connection lasts at most ``busy_seconds``.

    SQLite runs in WAL mode with a pool of connections. Python's sqlite3 opens a transaction
    only at the first write, so reads never take a lock: they go on while another connection
    (a backup, the CLI, another request) writes. Writers of this process take turns (see
    :func:`_take_turns_to_write`); a writer waits for its turn and for the write lock at most
    ``busy_seconds`` and then fails, which the web layer answers with 503 and Retry-After
    (see :func:`is_busy`), instead of holding every request up. Reads outside a turn see
    what is committed when they run, as PostgreSQL's default isolation does.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            module=one_trip_dbapi(),
            poolclass=AsyncAdaptedQueuePool,
            pool_size=5,
            max_overflow=10,
            pool_timeout=busy_seconds,
        )
        busy_ms = max(1, int(busy_seconds * 1000))

        def pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.close()

        event.listen(engine.sync_engine, "connect", pragmas)
        _take_turns_to_write(engine, busy_seconds)
        return engine
    # Connections are kept, never opened for a burst and closed after it: in a reconnection
    # storm that churn (a backend started, SSL refused, statements prepared again) cost a
    # tenth of the portal's CPU.
    engine = create_async_engine(
        url,
        pool_size=30,
        max_overflow=0,
        pool_timeout=busy_seconds,
        connect_args={"server_settings": {"lock_timeout": str(max(1, int(busy_seconds * 1000)))}},
    )
    # Instead of a pre-ping (three round trips per transaction: begin, ping, rollback; a third
    # of a Home Assistant handshake), a connection the server closed (a restart, a killed
    # backend: the socket has seen its end) is swapped for a new one as it leaves the pool.
    event.listen(engine.sync_engine, "checkout", _drop_closed)
    return engine


def _drop_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the server closed this connection")


def _take_turns_to_write(engine: AsyncEngine, busy_seconds: float) -> None:
    """Writers of this process wait in line for their turn, readers never do.

    SQLite admits one writer; left to its busy handler, writers of one process would poll
    for the lock and starve each other under load. A transaction's first write, or its
    first ``SELECT ... FOR UPDATE`` (which SQLite does not know: the turn gives it the
    meaning it has on PostgreSQL), waits at most ``busy_seconds`` for the process's turn and
    keeps it until its connection goes back to the pool. Not at the ``commit`` event:
    SQLAlchemy fires it before the commit runs, and the next writer would read what the
    commit is about to replace (a lost update).
    """
    turn = asyncio.Lock()
    holder: list[Any] = []  # the DBAPI connection whose transaction has the turn

    def before_execute(
        conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        if holder and holder[0] is dbapi_connection:
            return
        if not _SQLITE_WRITE.match(statement) and not _locks_rows(context):
            return
        try:
            await_only(asyncio.wait_for(turn.acquire(), busy_seconds))
        except TimeoutError as err:
            raise exc.TimeoutError("no turn to write within the busy bound") from err
        holder.append(dbapi_connection)

    def release(dbapi_connection: Any, *_: Any) -> None:
        if holder and holder[0] is dbapi_connection:
            holder.clear()
            turn.release()

    event.listen(engine.sync_engine, "before_cursor_execute", before_execute)
    for pool_event in ("reset", "checkin", "invalidate", "close"):
        event.listen(engine.sync_engine.pool, pool_event, release)


def _locks_rows(context: Any) -> bool:
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    return getattr(statement, "_for_update_arg", None) is not None


def is_busy(error: BaseException) -> bool:
    """Whether an error means "the database is busy, try again shortly".

    That is: SQLite's write lock or a PostgreSQL row/table lock not obtained within the busy
    bound, or no pooled connection free within it.
    """
    if isinstance(error, exc.TimeoutError):
        return True
    if not isinstance(error, exc.OperationalError | exc.DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return True
    return getattr(original, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (idempotent, safe with several instances)."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Another instance may migrate for longer than the busy bound: wait for it.
            await conn.execute(text("SET LOCAL lock_timeout = 0"))
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"))
        await conn.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema revision the database is at (None when empty)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    """The newest revision shipped with this version of the portal."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
