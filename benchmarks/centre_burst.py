"""Monitoring centre under a burst: N installations raise an alarm at once, one console open.

Run: ``.venv/bin/python -m benchmarks.centre_burst [--installations 500] [--instances 2]
[--database-url postgresql+asyncpg://...]``. Without ``--database-url`` a temporary
PostgreSQL server is started as the test suite starts it. Prints figures, asserts nothing.

The portal runs as ``--instances`` processes on the one database (the Home Assistants shared
out in turn, the console on the first). Every installation is linked and subscribed (a
complete ``centre_subscription``, acknowledged) before the burst. An operator logged in
keeps the console's queue open as the browser does: the Server-Sent Events stream of
``/centre/events``, and on each ``changed`` the queue page fetched again (one fetch at a
time, one more if changes came meanwhile). Then every Home Assistant sends its
``centre_alarm`` (an intrusion) at once. Figures:

- alarm -> queue: from the moment a box's alarm frame is sent to the first queue page that
  lists its case, p50/p99 (the console's own refresh delay included: what an operator sees);
- the console's refresh: the queue's first page's response time (what the browser fetches
  on each change; 50 cases a page) while the burst is handled, and after it with every case
  open, p50/p99. A case is "listed" once on any page: after the first page the benchmark
  follows the pages to the last (not timed), as an operator scrolling the queue would.
- the machine's load average (1 min) before and after, and the portal processes' CPU.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
import json
import os
import re
import sys
import time
import uuid

import aiohttp
from sqlalchemy import select

from benchmarks.figures import report
from benchmarks.portal_ws import Client, Probe, _frame, seed
from benchmarks.serve import quick_settings, serve_portal, wait_ready
from companion_server.core import build_core
from companion_server.models import Company, Role, User
from tests.companion.centre_world import subscription_payload
from tests.companion.helpers import free_port, psql, start_postgres, stop_postgres

OPERATOR = "operator@bench.example"
PASSWORD = "benchmark operator password"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
ROW_RE = re.compile(r'<tr data-case="\d+">.*?Installation (\d{5})', re.DOTALL)
NEXT_RE = re.compile(r'href="(/centre\?after=[^"]+)" rel="next"')
CONNECTING = 50  # Home Assistants connecting at a time before the burst (not measured)


async def seed_operator(database_url: str) -> None:
    """The benchmark company's operator (cheap password hashing, as the portals use)."""
    core = build_core(quick_settings(database_url))
    try:
        password_hash = await core.passwords.hash(PASSWORD)
        async with core.tx() as db:
            if await db.scalar(select(User).where(User.email == OPERATOR)) is not None:
                return
            company = await db.scalar(select(Company).where(Company.name == "WS Bench"))
            assert company is not None
            now = core.now()
            db.add(
                User(
                    company_id=company.id,
                    email=OPERATOR,
                    name="Operator",
                    password_hash=password_hash,
                    role=Role.OPERATOR.value,
                    language="en",
                    failed_logins=0,
                    created_at=now,
                    email_confirmed_at=now,
                )
            )
    finally:
        await core.close()


async def acknowledged(client: Client, text: str) -> int:
    """Send a frame until it is acknowledged (an error means: try again, as HA does).

    Returns how many times the portal answered "busy" first.
    """
    frame_id = json.loads(text)["id"]
    busy = 0
    await client.send(text)
    while (answer := await client.acks.get()) != frame_id:
        if answer == "error:" + frame_id:
            busy += 1
            await asyncio.sleep(1)
            await client.send(text)
    return busy


class Console:
    """The operator's queue page kept up to date as ``live.js`` keeps it."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.dirty = asyncio.Event()
        self.streaming = asyncio.Event()
        self.seen: dict[int, float] = {}  # installation number -> first listed at
        self.refreshes: list[tuple[float, float, int]] = []  # (started, seconds, rows)

    async def login(self) -> None:
        async with self.session.get(self.base + "/login") as response:
            match = CSRF_RE.search(await response.text())
            assert match, "no login form"
        data = {"email": OPERATOR, "password": PASSWORD, "csrf_token": match.group(1)}
        async with self.session.post(
            self.base + "/login", data=data, allow_redirects=False
        ) as response:
            assert response.status == 303, response.status

    async def listen(self) -> None:
        """The live stream, reconnected when the portal ends it."""
        while True:
            async with self.session.get(self.base + "/centre/events") as response:
                self.streaming.set()
                async for line in response.content:
                    if line.startswith(b"event: changed"):
                        self.dirty.set()

    async def refresh(self) -> None:
        """One fetch of the queue's first page (timed), then the other pages: rows noted."""
        began = time.perf_counter()
        page = await self._get("/centre")
        done = time.perf_counter()
        self.refreshes.append((began, done - began, self._note(page, done)))
        while (more := NEXT_RE.search(page)) is not None:
            page = await self._get(more.group(1).replace("&amp;", "&"))
            self._note(page, time.perf_counter())

    async def _get(self, path: str) -> str:
        async with self.session.get(self.base + path, allow_redirects=False) as response:
            return await response.text()

    def _note(self, page: str, at: float) -> int:
        rows = [int(n) for n in ROW_RE.findall(page)]
        for n in rows:
            self.seen.setdefault(n, at)
        return len(rows)

    async def follow(self) -> None:
        while True:
            await self.dirty.wait()
            self.dirty.clear()
            await self.refresh()


async def run(database_url: str, installations: int, instances: int) -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    await seed(database_url, installations)
    await seed_operator(database_url)
    ports = [free_port() for _ in range(instances)]
    command = [sys.executable, "-m", "benchmarks.centre_burst", "--database-url", database_url]
    children = [
        await asyncio.create_subprocess_exec(*command, "--serve", str(port)) for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    probes = [Probe(child.pid) for child in children]
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    # unsafe: the portal's cookies are set for an IP address (127.0.0.1).
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    clients = [Client(n, session, urls[n % instances]) for n in range(installations)]
    tasks: list[asyncio.Task[None]] = []
    try:
        for url in urls:
            await wait_ready(url + "/healthz")
        limit = asyncio.Semaphore(CONNECTING)
        subscription = subscription_payload(at=datetime.now(UTC))

        async def subscribed(client: Client) -> None:
            async with limit:
                await client.connect()
                await acknowledged(client, _frame("centre_subscription", subscription))

        await asyncio.gather(*(subscribed(c) for c in clients))
        print(
            f"{installations} installations linked and subscribed, {instances} portal "
            f"instances on {database_url.split('://')[0]}"
        )
        console = Console(browser, urls[0])
        await console.login()
        tasks = [asyncio.create_task(console.listen()), asyncio.create_task(console.follow())]
        await console.streaming.wait()
        await console.refresh()

        alarms = [
            _frame(
                "centre_alarm",
                {
                    "alarm_id": str(uuid.uuid4()),
                    "kind": "intrusion",
                    "active": True,
                    "device_url": f"io://{c.n}/front-door",
                    "device_label": "Front door",
                    "at": datetime.now(UTC).isoformat(),
                },
            )
            for c in clients
        ]
        sent_at: dict[int, float] = {}
        retried: list[int] = []
        cpu0 = [p.cpu_seconds() for p in probes]
        burst = time.perf_counter()

        async def raise_alarm(client: Client, text: str) -> None:
            sent_at[client.n] = time.perf_counter()
            retried.append(await acknowledged(client, text))

        await asyncio.gather(*(raise_alarm(c, a) for c, a in zip(clients, alarms, strict=True)))
        acked = time.perf_counter() - burst
        for _ in range(1200):
            if len(console.seen) >= installations:
                break
            await asyncio.sleep(0.1)
        wall = time.perf_counter() - burst
        cpu = [100 * (p.cpu_seconds() - c0) / wall for p, c0 in zip(probes, cpu0, strict=True)]
        listed = [console.seen[n] - sent_at[n] for n in console.seen if n in sent_at]
        print(
            f"burst: {installations} alarms acknowledged in {acked:.1f} s "
            f"({sum(1 for r in retried if r)} answered 'busy' first and sent again), "
            f"{len(listed)} cases in the queue after {wall:.1f} s; portal CPU "
            + ", ".join(f"{c:.0f} %" for c in cpu)
            + f"; load average now {os.getloadavg()[0]:.2f}"
        )
        report("alarm->queue", listed, width=18)
        during = [s for began, s, _rows in console.refreshes if began >= burst]
        report("refresh (burst)", during, width=18)
        after: list[float] = []
        for _ in range(20):
            await console.refresh()
            after.append(console.refreshes[-1][1])
        rows = console.refreshes[-1][2]
        report(f"refresh ({rows} rows, {len(console.seen)} open)", after, width=18)
    finally:
        for task in tasks:
            task.cancel()
        for client in clients:
            await client.close()
        await session.close()
        await browser.close()
        for child in children:
            child.terminate()
            await child.wait()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--installations", type=int, default=500)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--database-url", help="default: a temporary PostgreSQL server")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_portal(quick_settings(args.database_url, port=args.serve))
        return
    if args.database_url:
        asyncio.run(run(args.database_url, args.installations, args.instances))
        return
    postgres = start_postgres(free_port())
    try:
        psql(postgres.url, "CREATE DATABASE centre_bench")
        base_url, _, _ = postgres.url.rpartition("/")
        asyncio.run(run(f"{base_url}/centre_bench", args.installations, args.instances))
    finally:
        stop_postgres(postgres)


if __name__ == "__main__":
    main()
