"""Fixtures of the portal tests: real SQLite and PostgreSQL, a fake clock, HTTP clients.

Every test that uses ``database_url`` runs twice: on an SQLite file and on a PostgreSQL
server that this module starts (initdb + pg_ctl in a temporary directory, 127.0.0.1 and a
free port) for the session. Set ``COMPANION_TEST_POSTGRES_URL`` (an admin URL such as
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``) to use an existing server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
import itertools
import os
from pathlib import Path
import shutil
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from companion_server.app import create_app
from companion_server.app_keys import CORE
from companion_server.core import Core
from companion_server.db import create_engine, migrate
from companion_server.settings import Settings
from tests.companion.helpers import (
    BrowserFactory,
    FakeClock,
    PortalClient,
    free_port,
    psql,
    start_postgres,
    stop_postgres,
)

SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the whole session (started here unless given)."""
    given = os.environ.get("COMPANION_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    server = start_postgres(free_port())
    try:
        yield server.url
    finally:
        stop_postgres(server)


@pytest.fixture(scope="session")
def _postgres_template(postgres_admin_url: str) -> Iterator[str]:
    """A migrated template database; each test gets a copy (CREATE DATABASE ... TEMPLATE)."""
    name = f"portal_template_{os.getpid()}"  # unique: a shared server may run several suites
    psql(postgres_admin_url, f"DROP DATABASE IF EXISTS {name}")
    psql(postgres_admin_url, f"CREATE DATABASE {name}")
    _run_apart(_migrate(_with_database(postgres_admin_url, name)))
    try:
        yield name
    finally:
        psql(postgres_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _run_apart(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


def _run_apart(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to its end in a thread of its own: a session fixture may first be
    needed by an async test (whichever test a parallel worker takes first), whose loop runs."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def _with_database(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each kind."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        target = tmp_path / "portal.db"
        shutil.copy(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    template_name: str = request.getfixturevalue("_postgres_template")
    name = f"portal_test_{os.getpid()}_{next(_db_counter)}"
    psql(admin_url, f"CREATE DATABASE {name} TEMPLATE {template_name}")
    try:
        yield _with_database(admin_url, name)
    finally:
        psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def clock() -> FakeClock:
    """A clock that only moves when told to."""
    return FakeClock()


def fast_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test portal: cheap argon2, no background mail worker."""
    base: dict[str, Any] = {
        "secret_key": SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        "mail_worker": False,
        "sia_worker": False,
    }
    return Settings(database_url=database_url, **(base | overrides))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings: cheap argon2, demo mode (outbox page), no background mail worker.

    Documents go to the test's own folder, never to ``data/`` of the working directory.
    """
    return fast_settings(
        database_url,
        public_url="http://127.0.0.1:8080",
        demo=True,
        documents_dir=str(tmp_path / "documents"),
    )


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    """The portal application."""
    return create_app(settings, clock=clock)


@pytest.fixture
async def server(app: web.Application) -> AsyncIterator[TestServer]:
    """The portal listening on 127.0.0.1 (startup runs the migrations)."""
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    try:
        yield test_server
    finally:
        await test_server.close()


@pytest.fixture
async def browsers(server: TestServer) -> AsyncIterator[BrowserFactory]:
    """Open browser-like clients (own cookie jars) on the running portal."""
    factory = BrowserFactory(str(server.make_url("/")).rstrip("/"))
    try:
        yield factory
    finally:
        await factory.close()


@pytest.fixture
async def client(browsers: BrowserFactory) -> PortalClient:
    """The first browser."""
    return await browsers.new()


@pytest.fixture
def core(app: web.Application, server: TestServer) -> Core:
    """The portal core of the running app (database migrated)."""
    return app[CORE]
