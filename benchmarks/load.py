"""A load generator: N simulated Home Assistants and M installer browsers against the portal.

Run: ``.venv/bin/python -m benchmarks.load [--connections 1000] [--browsers 4]
[--seconds 20] [--scale 60] [--database-url postgresql+asyncpg://...]
[--url http://127.0.0.1:PORT ...]``.

Without ``--url`` the portal runs in a process of its own on the seeded database (CPU is then
measured); with ``--url`` (repeat it: one per instance, or nginx's address) the load goes to
portals already running on that database, the connections shared out in turn.

Phases, each printed (nothing is asserted):

- storm: every Home Assistant connects at once, as after a portal restart (``hello``,
  ``welcome``, a ``snapshot`` of 5 devices), honouring a ``503``'s ``Retry-After`` with jitter
  as Home Assistant does: connections a second, refusals, time to ``welcome`` p50/p99, the
  portal's CPU (100 % = one core);
- traffic, for ``--seconds``: the rates of a real home sped up ``--scale`` times: a radio level
  change every 3 minutes, an alert a day, a storm's burst of 20 updates half way through;
  browsers fetch the installations list and an installation page in turn: frames a second,
  pages a second and their p50/p95.

The generator raises its own open-file limit to the hard limit (one socket per connection).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import uuid

import aiohttp
from sqlalchemy import func, select, text

from benchmarks.portal_ws import DEVICES, Client, Probe, _frame, seed
from benchmarks.serve import serve_portal, wait_ready
from companion_server.core import build_core
from companion_server.models import Company, Installation, Role, User
from companion_server.settings import RateLimit, RateLimits, Settings
from tests.portal_app import free_port

SECRET = "benchmark-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "benchmark password 1"
BROWSER = "browser@bench.example"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
UPDATE_EVERY = 180.0  # seconds between radio level changes of a real home
ALERT_EVERY = 86_400.0  # one alert a day
BURST = 20


def raise_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def portal_settings(database_url: str, port: int) -> Settings:
    """The portal under load: production settings, no per-address login limit.

    Every browser comes from 127.0.0.1.
    """
    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        port=port,
        mail_worker=False,
        rate_limits=RateLimits(login_per_ip=RateLimit(10**9, 900)),
    )


def serve(database_url: str, port: int) -> None:
    """Child process: the portal."""
    raise_file_limit()
    serve_portal(portal_settings(database_url, port))


async def seed_browser(database_url: str) -> None:
    """An administrator of the benchmark's company, to log the browsers in."""
    core = build_core(portal_settings(database_url, 8080))
    try:
        password_hash = await core.passwords.hash(PASSWORD)
        async with core.tx() as db:
            if await db.scalar(select(User).where(User.email == BROWSER)) is not None:
                return
            company = await db.scalar(select(Company).where(Company.name == "WS Bench"))
            assert company is not None
            db.add(
                User(
                    company_id=company.id,
                    email=BROWSER,
                    name="Browser",
                    password_hash=password_hash,
                    role=Role.ADMIN.value,
                    language="en",
                    failed_logins=0,
                    created_at=core.now(),
                    email_confirmed_at=core.now(),
                )
            )
    finally:
        await core.close()


async def describe(database_url: str, urls: list[str]) -> str:
    """What the run goes against: database kind and version, instances, software versions."""
    core = build_core(portal_settings(database_url, 8080))
    try:
        async with core.tx() as db:
            if core.settings.is_sqlite:
                version = "SQLite " + str(await db.scalar(text("SELECT sqlite_version()")))
            else:
                version = str(await db.scalar(text("SELECT version()"))).split(",")[0]
            installations = await db.scalar(select(func.count()).select_from(Installation))
    finally:
        await core.close()
    cores = len(os.sched_getaffinity(0))
    return (
        f"database: {version}; {installations} installations; "
        f"portal instances: {len(urls)} ({', '.join(urls)}); Python {platform.python_version()}, "
        f"aiohttp {aiohttp.__version__}; {platform.machine()} with {cores} cores"
    )


def percentile(values: list[float], share: float) -> float:
    """The value under which ``share`` of ``values`` lie (0 when none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def storm(clients: list[Client], probe: Probe | None) -> None:
    """Every Home Assistant at once; print the figures."""
    cpu0 = probe.cpu_seconds() if probe else 0.0
    started = time.perf_counter()
    await asyncio.gather(*(c.connect() for c in clients))
    wall = time.perf_counter() - started
    welcome = [c.welcomed_at - started for c in clients]
    cpu = f"{100 * (probe.cpu_seconds() - cpu0) / wall:.0f} %" if probe else "n/a"
    refused = sum(c.refused for c in clients)
    print(
        f"storm: {len(clients)} connections in {wall:.1f} s ({len(clients) / wall:.0f}/s), "
        f"{refused} refusals retried; time to welcome p50 {percentile(welcome, 0.5):.1f} s, "
        f"p99 {percentile(welcome, 0.99):.1f} s; portal CPU {cpu}"
    )


async def home(client: Client, seconds: float, scale: float, dropped: list[int]) -> None:
    """One home's traffic: radio changes, a rare alert, the storm's burst half way.

    A connection the portal closes is opened again at once (counted in ``dropped``).
    """
    update_every = UPDATE_EVERY / scale
    alert_chance = update_every / (ALERT_EVERY / scale)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    burst_at: float | None = loop.time() + seconds / 2
    await asyncio.sleep(random.uniform(0, update_every))
    while loop.time() < end:
        try:
            await client.update()
            if random.random() < alert_chance:
                await client.send(alert_frame(client.n))
            if burst_at is not None and loop.time() >= burst_at:
                burst_at = None
                for _ in range(BURST):
                    await client.update()
        except (ConnectionError, aiohttp.ClientError):
            dropped.append(client.n)
            await client.connect()
        await asyncio.sleep(update_every)


def alert_frame(n: int) -> str:
    """An intrusion alert of the home's first device."""
    return _frame(
        "alert",
        {
            "alert_id": str(uuid.uuid4()),
            "device_url": f"io://{n:04}-1111-2222/{random.randrange(DEVICES)}",
            "device_label": "Device",
            "type": "intrusion",
            "active": True,
            "at": datetime.now(UTC).isoformat(),
        },
    )


async def browser(base: str, seconds: float, latencies: list[float]) -> None:
    """An installer: logs in, then the installations list and an installation page in turn."""
    # unsafe: the portal's cookies are set for an IP address (127.0.0.1).
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(base + "/login") as response:
            match = CSRF_RE.search(await response.text())
            assert match, "no login form"
        data = {"email": BROWSER, "password": PASSWORD, "csrf_token": match.group(1)}
        async with session.post(base + "/login", data=data, allow_redirects=False) as response:
            assert response.status == 303, response.status
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        page = 0
        while loop.time() < end:
            path = "/installations" if page % 2 == 0 else f"/installations/{1 + page % 50}"
            began = time.perf_counter()
            async with session.get(base + path, allow_redirects=False) as response:
                await response.read()
            latencies.append(time.perf_counter() - began)
            page += 1


async def traffic(
    clients: list[Client], urls: list[str], args: argparse.Namespace, probe: Probe | None
) -> None:
    """Homes and browsers together for ``--seconds``; print the figures."""
    latencies: list[float] = []
    dropped: list[int] = []
    before = sum(c.sent for c in clients)
    cpu0 = probe.cpu_seconds() if probe else 0.0
    started = time.perf_counter()
    await asyncio.gather(
        *(home(c, args.seconds, args.scale, dropped) for c in clients),
        *(browser(urls[b % len(urls)], args.seconds, latencies) for b in range(args.browsers)),
    )
    wall = time.perf_counter() - started
    frames = sum(c.sent for c in clients) - before
    cpu = f"{100 * (probe.cpu_seconds() - cpu0) / wall:.0f} %" if probe else "n/a"
    print(
        f"traffic ({args.scale:g}x a real home's rates): {frames} frames in {wall:.1f} s "
        f"({frames / wall:.0f}/s sent); {len(latencies)} pages ({len(latencies) / wall:.0f}/s), "
        f"p50 {1000 * percentile(latencies, 0.5):.0f} ms, "
        f"p95 {1000 * percentile(latencies, 0.95):.0f} ms; portal CPU {cpu}; "
        f"{len(dropped)} connections closed by the portal and opened again"
    )
    if latencies:
        print(f"  page mean {1000 * statistics.fmean(latencies):.0f} ms")


async def run(args: argparse.Namespace) -> None:
    """Seed, start (or use) the portal, run the phases."""
    limit = raise_file_limit()
    with tempfile.TemporaryDirectory() as directory:
        database_url = args.database_url or f"sqlite+aiosqlite:///{directory}/load.db"
        await seed(database_url, args.connections)
        await seed_browser(database_url)
        child = None
        urls = args.url or []
        if not urls:
            port = free_port()
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.load", "--serve", str(port),
                "--database-url", database_url,
            )  # fmt: skip
            urls = [f"http://127.0.0.1:{port}"]
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, ssl=False))
        clients = [Client(n, session, urls[n % len(urls)]) for n in range(args.connections)]
        try:
            for url in urls:
                await wait_ready(url + "/healthz")
            print(await describe(database_url, urls))
            print(f"load generator: open-file limit {limit}")
            probe = Probe(child.pid) if child is not None else None
            await storm(clients, probe)
            await traffic(clients, urls, args, probe)
        finally:
            for client in clients:
                await client.close()
            await session.close()
            if child is not None:
                child.terminate()
                await child.wait()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--browsers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--scale", type=float, default=60.0, help="speed-up of a home's rates")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--url", action="append", help="a running portal (repeatable)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.database_url, args.serve)
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
