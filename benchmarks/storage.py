"""SQLite under pressure: a backup, another process's write lock, the retention job.

Requests are timed during a backup and while another process holds the write lock; the
retention job's deletion speed is measured too.

Run: ``.venv/bin/python -m benchmarks.storage [--ballast-mb 200] [--samples 100000]``.

The portal runs in this process on an SQLite file. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from pathlib import Path
import sqlite3
import tempfile
import time

import aiohttp
from sqlalchemy import insert

from benchmarks.figures import report
from benchmarks.serve import SECRET, portal_in_process
from companion_server import retention
from companion_server.backup import backup_sqlite
from companion_server.core import build_core, utcnow
from companion_server.db import migrate
from companion_server.models import Company, Device, Installation, RadioSample
from companion_server.settings import Settings


async def _ask_while(session: aiohttp.ClientSession, url: str, busy: asyncio.Event) -> list[float]:
    """Time ``GET url`` over and over until ``busy`` is cleared."""
    seconds: list[float] = []
    while busy.is_set():
        start = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
        seconds.append(time.perf_counter() - start)
    return seconds


async def backup_while_serving(base: str, path: Path, directory: Path) -> None:
    busy = asyncio.Event()
    busy.set()
    async with aiohttp.ClientSession() as session:
        asker = asyncio.create_task(_ask_while(session, f"{base}/healthz", busy))
        start = time.perf_counter()
        size = await asyncio.to_thread(backup_sqlite, path, directory / "backup.db", 3.0)
        took = time.perf_counter() - start
        busy.clear()
        seconds = await asker
    print(f"backup of {size / 1e6:.0f} MB took {took:.2f} s; /healthz during it:")
    report("healthz", seconds)


async def requests_under_write_lock(base: str, path: Path, hold: float) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    busy = asyncio.Event()
    busy.set()
    async with aiohttp.ClientSession() as session:
        asker = asyncio.create_task(_ask_while(session, f"{base}/healthz", busy))
        start = time.perf_counter()
        link = {"code": "AAAAA-BBBBB", "pin": "1234-5678-9012", "instance_id": "b", "name": "b"}
        async with session.post(f"{base}/api/v1/link", json=link) as response:
            status = response.status
        write = time.perf_counter() - start
        await asyncio.sleep(max(0.0, hold - write))
        busy.clear()
        seconds = await asker
    other.execute("ROLLBACK")
    other.close()
    print(f"another process holds the write lock {hold:.0f} s; /healthz meanwhile:")
    report("healthz", seconds)
    print(f"a link request (a write) answered {status} after {write:.2f} s")


async def retention_speed(settings: Settings, samples: int) -> None:
    core = build_core(settings)
    try:
        old = utcnow() - timedelta(days=60)
        async with core.tx() as db:
            company = Company(name="Bench", created_at=old)
            db.add(company)
            await db.flush()
            installation = Installation(
                company_id=company.id, name="Bench", status="linked", created_at=old
            )
            db.add(installation)
            await db.flush()
            device = Device(
                installation_id=installation.id, url="io://b", label="B", updated_at=old
            )
            db.add(device)
            await db.flush()
            await db.execute(
                insert(RadioSample),
                [
                    {"device_id": device.id, "at": old + timedelta(seconds=30 * n), "rssi": 50}
                    for n in range(samples)
                ],
            )
        start = time.perf_counter()
        purged = await retention.run_once(core)
        took = time.perf_counter() - start
    finally:
        await core.close()
    assert purged is not None
    removed = purged["radio_samples_downsampled"]
    print(
        f"retention: {samples} samples (one every 30 s) downsampled to one an hour: "
        f"{removed} deleted in {took:.2f} s ({removed / took:,.0f} rows/s, "
        f"batches of {settings.retention_batch})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballast-mb", type=int, default=200)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--hold", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / "portal.db"
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{path}", secret_key=SECRET, mail_worker=False
        )
        core = build_core(settings)
        await migrate(core.engine)
        await core.close()
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE ballast (b BLOB)")
            connection.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                "INSERT INTO ballast SELECT randomblob(16384) FROM n",
                (args.ballast_mb * 64,),
            )
        server = await portal_in_process(settings)
        try:
            base = str(server.make_url("")).rstrip("/")
            await backup_while_serving(base, path, directory)
            await requests_under_write_lock(base, path, args.hold)
        finally:
            await server.close()
        await retention_speed(settings, args.samples)


if __name__ == "__main__":
    asyncio.run(main())
