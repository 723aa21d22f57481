"""``python -m companion_server backup DEST`` while the portal serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import os
from pathlib import Path
import shlex
import sqlite3
import subprocess

from aiohttp.test_utils import TestServer
import pytest

from companion_server.app import create_app
from companion_server.app_keys import CORE
from companion_server.cli import main
from companion_server.core import Core
from tests.companion.conftest import fast_settings
from tests.companion.helpers import BrowserFactory, FakeClock, _pg_bin, make_company, make_user

BALLAST_MB = 96  # makes one copy last long enough for requests to be answered meanwhile


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the CLI keeps a generated secret key under ./data
    for name in [k for k in os.environ if k.startswith("COMPANION_")]:
        monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
async def portal(database_url: str) -> AsyncIterator[TestServer]:
    settings = fast_settings(
        database_url,
    )
    server = TestServer(create_app(settings, clock=FakeClock()), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


def _add_ballast(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE ballast (b BLOB)")
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO ballast SELECT randomblob(16384) FROM n",
            (BALLAST_MB * 64,),
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_backup_while_the_portal_serves(
    isolated: Path, portal: TestServer, database_url: str
) -> None:
    core: Core = portal.app[CORE]
    company = await make_company(core, "Backed Up Co")
    await make_user(core, company, "ana@example.com")
    source = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    _add_ballast(source)
    browsers = BrowserFactory(str(portal.make_url("/")).rstrip("/"))
    client = await browsers.new()
    assert (await client.login("ana@example.com")).status == 303
    answered: dict[str, int] = {"read": 0, "write": 0}
    statuses: list[int] = []
    backing_up = asyncio.Event()
    stop = asyncio.Event()

    async def keep_asking() -> None:
        turn = 0
        while not stop.is_set():
            turn += 1
            read = await client.get("/healthz")
            write = await client.post("/profile", {"name": f"Ana {turn}", "language": "en"})
            statuses.extend((read.status, write.status))
            if backing_up.is_set():
                answered["read"] += read.status == 200
                answered["write"] += write.status == 303

    asker = asyncio.create_task(keep_asking())
    try:
        # Each copy is fast: repeat until requests were answered during one (at most 5).
        for attempt in range(5):
            destination = isolated / f"backup-{attempt}.db"
            backing_up.set()
            status = await asyncio.to_thread(
                main, ["backup", "--database-url", database_url, str(destination)]
            )
            backing_up.clear()
            assert status == 0
            if min(answered.values()) > 0:
                break
        stop.set()
        await asyncio.wait_for(asker, 30)
    finally:
        stop.set()
        await browsers.close()
    assert min(answered.values()) > 0, answered
    assert set(statuses) == {200, 303}  # nothing refused or failed meanwhile
    with sqlite3.connect(destination) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (name,) = copy.execute("SELECT name FROM users WHERE email = 'ana@example.com'").fetchone()
        assert name.startswith("Ana")
    assert not [path for path in os.listdir(isolated) if path.endswith(".partial")]
    # An existing file is never overwritten.
    assert main(["backup", "--database-url", database_url, str(destination)]) == 1


def test_backup_refuses_what_it_cannot_copy(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = f"sqlite+aiosqlite:///{isolated / 'none.db'}"
    assert main(["backup", "--database-url", missing, str(isolated / "out.db")]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not (isolated / "out.db").exists()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_backup_prints_a_working_pg_dump(
    isolated: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    destination = isolated / "portal.dump"
    assert main(["backup", "--database-url", database_url, str(destination)]) == 0
    command = capsys.readouterr().out.strip().splitlines()[-1]
    assert not destination.exists()  # the operator runs it
    args = shlex.split(command)
    assert args[0] == "pg_dump"
    subprocess.run([str(_pg_bin() / "pg_dump"), *args[1:]], check=True, capture_output=True)
    listing = subprocess.run(
        [str(_pg_bin() / "pg_restore"), "--list", str(destination)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "TABLE public users" in listing
