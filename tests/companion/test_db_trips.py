"""The database's trips per statement: SQLite's one-trip adapter, reads with no transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import exc, text

from companion_server.core import Core, build_core
from tests.companion.conftest import fast_settings


@pytest.fixture
async def sqlite_core(tmp_path: Path) -> AsyncIterator[Core]:
    core = build_core(fast_settings(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}"))
    async with core.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield core
    await core.close()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls run in aiosqlite's thread, by name, as they happen."""
    made: list[str] = []
    execute: Callable[..., Any] = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any) -> Any:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return made


async def test_sqlite_writes_report_their_rows_and_reads_return_theirs(sqlite_core: Core) -> None:
    async with sqlite_core.engine.begin() as conn:
        first = await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        second = await conn.execute(text("INSERT INTO t (v) VALUES ('b')"))
        assert (first.lastrowid, second.lastrowid) == (1, 2)
        changed = await conn.execute(text("UPDATE t SET v = v || 'x'"))
        assert changed.rowcount == 2
    async with sqlite_core.engine.connect() as conn:
        result = await conn.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "v"]
        assert [tuple(row) for row in result] == [(1, "ax"), (2, "bx")]
        assert (await conn.execute(text("SELECT v FROM t WHERE id = 3"))).first() is None


async def test_sqlite_error_rolls_the_transaction_back(sqlite_core: Core) -> None:
    async with sqlite_core.engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
    with pytest.raises(exc.IntegrityError):
        async with sqlite_core.engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('b')"))
            await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
    async with sqlite_core.engine.connect() as conn:
        assert list((await conn.execute(text("SELECT v FROM t"))).scalars()) == ["a"]


async def test_sqlite_statement_is_one_trip_and_reads_end_without_one(
    sqlite_core: Core, trips: list[str]
) -> None:
    async with sqlite_core.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the pool's first connection opens here
    trips.clear()
    async with sqlite_core.tx() as db:
        await db.execute(text("SELECT count(*) FROM t"))
        await db.execute(text("SELECT v FROM t"))
    # Two statements; the commit and the pool's rollback find no transaction open.
    assert len(trips) == 2
    trips.clear()
    async with sqlite_core.tx() as db:
        await db.execute(text("INSERT INTO t (v) VALUES ('c')"))
    assert len(trips) == 2  # the statement and the commit
    async with sqlite_core.engine.connect() as conn:
        assert list((await conn.execute(text("SELECT v FROM t"))).scalars()) == ["c"]


async def test_postgresql_reads_see_each_statement_apart(postgres_admin_url: str) -> None:
    """``Core.reads`` opens no transaction: ``now()`` (a transaction's start) moves on."""
    core = build_core(fast_settings(postgres_admin_url))
    try:
        async with core.reads() as db:
            first = await db.scalar(text("SELECT now()"))
            await asyncio.sleep(0.01)
            second = await db.scalar(text("SELECT now()"))
        assert first is not None and second is not None and second > first
        async with core.tx() as db:
            first = await db.scalar(text("SELECT now()"))
            await asyncio.sleep(0.01)
            second = await db.scalar(text("SELECT now()"))
        assert first == second
    finally:
        await core.close()
