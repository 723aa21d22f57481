"""Another process holding SQLite's write lock: reads go on, writes answer 503 quickly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
from pathlib import Path
import shutil
import sqlite3
from typing import Any, TypeVar

from aiohttp import WSMsgType
from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.util import await_only

from companion_server.app import create_app
from companion_server.app_keys import CORE
from companion_server.core import Core, build_core
from companion_server.db import create_engine
from companion_server.models import Company, User
from companion_server.settings import Settings
from tests.companion import ha as sim
from tests.companion.conftest import SECRET, fast_settings
from tests.companion.helpers import BrowserFactory, FakeClock, make_company, make_user

# Long enough that the old 10 s wait would outlast it, so a hanging request answers only
# after the release; the assertions below are about order, not duration.
HOLD_SECONDS = 8.0
T = TypeVar("T")


@dataclass
class Answered:
    value: Any
    while_locked: bool


class WriteLock:
    """Another connection holding the write lock (``BEGIN IMMEDIATE``) until released."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.held = False

    def __enter__(self) -> WriteLock:
        self.connection.execute("BEGIN IMMEDIATE")
        self.held = True
        return self

    def release(self) -> None:
        if self.held:
            self.connection.execute("ROLLBACK")
            self.held = False

    def __exit__(self, *_: object) -> None:
        self.release()
        self.connection.close()

    async def watch(self, call: Awaitable[T]) -> Answered:
        """Await ``call`` and note whether the lock was still held when it answered."""
        value = await call
        return Answered(value, self.held)

    async def hold_at_most(self, seconds: float, done: asyncio.Event) -> None:
        """Release when the test is done or after ``seconds``, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), seconds)
        self.release()


@pytest.fixture
def sqlite_path(tmp_path: Path, _sqlite_template: Path) -> Path:
    target = tmp_path / "portal.db"
    shutil.copy(_sqlite_template, target)
    return target


@pytest.fixture
async def portal(sqlite_path: Path) -> AsyncIterator[TestServer]:
    settings = fast_settings(
        f"sqlite+aiosqlite:///{sqlite_path}",
        database_busy_seconds=0.5,
    )
    server = TestServer(create_app(settings, clock=FakeClock()), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def _concurrently(
    lock: WriteLock, first: Awaitable[Any], *then: Callable[[], Awaitable[Any]]
) -> list[Answered]:
    """Start ``first`` (it takes the portal's attention), then the others; release at the end."""
    done = asyncio.Event()
    holder = asyncio.create_task(lock.hold_at_most(HOLD_SECONDS, done))
    first_task = asyncio.create_task(lock.watch(first))
    await asyncio.sleep(0.2)  # the write is waiting for the lock now
    others = [asyncio.create_task(lock.watch(call())) for call in then]
    answers = await asyncio.gather(first_task, *others)
    done.set()
    await holder
    return answers


async def test_reads_go_on_and_writes_answer_503_while_another_process_writes(
    portal: TestServer, sqlite_path: Path
) -> None:
    core: Core = portal.app[CORE]
    company = await make_company(core)
    await make_user(core, company, "ana@example.com", name="Ana", language="fr")
    browsers = BrowserFactory(str(portal.make_url("/")).rstrip("/"))
    try:
        client = await browsers.new()
        assert (await client.login("ana@example.com")).status == 303
        form = await client.get("/profile")
        assert form.status == 200 and client.csrf
        token = client.csrf
        reader = await browsers.new()
        with WriteLock(sqlite_path) as lock:
            write, health, page = await _concurrently(
                lock,
                client.post("/profile", {"name": "Renamed", "language": "fr"}),
                lambda: reader.get("/healthz"),
                lambda: client.get("/installations"),
            )
        # Reads were answered while the other process still held the lock.
        assert health.while_locked and health.value.status == 200
        assert page.while_locked and page.value.status == 200
        # The write gave up after the short bound: 503, Retry-After, a translated page.
        assert write.while_locked and write.value.status == 503
        assert int(write.value.headers["Retry-After"]) > 0
        assert "Le portail est occupé" in write.value.text
        async with core.tx() as db:
            user = await db.scalar(select(User).where(User.email == "ana@example.com"))
            assert user is not None and user.name == "Ana"  # nothing changed
        # Once the lock is gone the same form goes through.
        again = await client.post(
            "/profile", {"name": "Renamed", "language": "fr", "csrf_token": token}
        )
        assert again.status == 303
    finally:
        await browsers.close()


async def test_api_and_hub_fail_fast_while_another_process_writes(
    portal: TestServer, sqlite_path: Path
) -> None:
    core: Core = portal.app[CORE]
    reg, _ = await sim.registered(core)
    second, _ = await sim.registered(core, pin="2345-6789-0123", email="two@acme.example")
    home = sim.HomeAssistant(str(portal.make_url("/")))
    other = sim.HomeAssistant(str(portal.make_url("/")))
    try:
        assert (await home.link(reg.code))[0] == 200
        await home.connect()
        await home.hello()
        with WriteLock(sqlite_path) as lock:

            async def frame_answer() -> dict[str, Any]:
                await home.send(sim.consent("granted"))
                return await home.expect("error", wait=HOLD_SECONDS + 5)

            link, stored = await _concurrently(
                lock, other.link(second.code, "2345-6789-0123"), frame_answer
            )
        # The API answers 503 in JSON, the hub an error frame, both before the lock ends.
        assert link.while_locked and link.value == (503, {"error": "busy"})
        assert stored.while_locked and stored.value["payload"]["code"] == "internal_error"
        # Afterwards both work.
        assert (await other.link(second.code, "2345-6789-0123"))[0] == 200
    finally:
        await home.close()
        await other.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_write_waits_for_a_lock_at_most_the_bound(
    database_url: str, clock: FakeClock
) -> None:
    settings = fast_settings(
        database_url,
        database_busy_seconds=0.5,
    )
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    other = create_engine(database_url)
    browsers = BrowserFactory(str(server.make_url("/")).rstrip("/"))
    try:
        core: Core = server.app[CORE]
        company = await make_company(core)
        await make_user(core, company, "ana@example.com", name="Ana")
        client = await browsers.new()
        assert (await client.login("ana@example.com")).status == 303
        assert (await client.get("/profile")).status == 200
        async with other.connect() as conn:
            # Another session writes to the accounts table and keeps its lock: reads pass.
            await conn.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
            assert (await client.get("/installations")).status == 200
            async with asyncio.timeout(HOLD_SECONDS):  # without a bound it would wait forever
                write = await client.post("/profile", {"name": "Renamed", "language": "en"})
            still_locked = conn.in_transaction()
            await conn.rollback()
        assert still_locked and write.status == 503 and write.headers["Retry-After"]
        assert "The portal is busy" in write.text
    finally:
        await browsers.close()
        await other.dispose()
        await server.close()


@pytest.mark.parametrize("commit_delay", [0.0, 0.02], ids=["commit", "slow-commit"])
async def test_writers_of_one_process_take_turns(
    sqlite_path: Path, monkeypatch: pytest.MonkeyPatch, commit_delay: float
) -> None:
    if commit_delay:
        # A commit that takes a while (a busy disk): the next writer must not read before it ends.
        commit = AsyncAdapt_aiosqlite_connection.commit

        def slow_commit(self: AsyncAdapt_aiosqlite_connection) -> None:
            await_only(asyncio.sleep(commit_delay))
            commit(self)

        monkeypatch.setattr(AsyncAdapt_aiosqlite_connection, "commit", slow_commit)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{sqlite_path}", secret_key=SECRET)
    core = build_core(settings, FakeClock())
    try:
        company = await make_company(core, "0")

        async def write(number: int) -> None:
            async with core.tx() as db:
                db.add(Company(name=f"other {number}", created_at=core.now()))
                await db.flush()
                await asyncio.sleep(0.005)  # others run meanwhile, none may fail

        async def increment() -> None:
            async with core.tx() as db:
                row = await db.get(Company, company.id, with_for_update=True)
                assert row is not None
                seen = int(row.name)
                await asyncio.sleep(0.005)  # a lost update would show here
                row.name = str(seen + 1)

        await asyncio.gather(*(write(n) for n in range(30)), *(increment() for _ in range(10)))
        async with core.tx() as db:
            row = await db.get(Company, company.id)
            assert row is not None and row.name == "10"
            assert await db.scalar(select(func.count()).select_from(Company)) == 31
    finally:
        await core.close()


async def test_a_hello_the_portal_cannot_store_ends_the_connection(
    portal: TestServer, sqlite_path: Path
) -> None:
    core: Core = portal.app[CORE]
    reg, _ = await sim.registered(core)
    home = sim.HomeAssistant(str(portal.make_url("/")))
    try:
        assert (await home.link(reg.code))[0] == 200
        ws = await home.connect()
        with WriteLock(sqlite_path):
            await home.send(sim.hello(sim.PIN, False))
            error = await home.expect("error", wait=HOLD_SECONDS)
            after = await ws.receive(timeout=HOLD_SECONDS)
        # Closed rather than left waiting for a welcome that never comes: Home Assistant
        # connects again, and is welcomed once the database is free.
        assert error["payload"]["code"] == "internal_error"
        assert after.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
        await home.connect()
        assert (await home.hello())["type"] == "welcome"
    finally:
        await home.close()
