"""Latency and throughput of the portal: login and the installations list.

Run: ``.venv/bin/python -m benchmarks.portal [--seconds 5] [--concurrency 8]
[--database-url postgresql+asyncpg://...]``.

The database gets one company with 50 installers and 10,000 installations (each assigned to
one installer, so 200 per installer). The portal runs in its own process with production
password hashing (argon2id, RFC 9106 low-memory parameters) and, beside it, a bare aiohttp
handler in another process: its requests per second are the ceiling the ratio compares to.
The per-IP login limit is lifted for the run (every request comes from 127.0.0.1). Figures
are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import re
import statistics
import sys
import tempfile
import time

import aiohttp
from sqlalchemy import select

from benchmarks.seed import ADMIN, installer_email, seed_company
from benchmarks.serve import SECRET, serve_bare, serve_portal, wait_ready
from companion_server.core import build_core
from companion_server.db import migrate
from companion_server.models import User
from companion_server.settings import RateLimit, RateLimits, Settings
from tests.portal_app import free_port

PASSWORD = "benchmark password 1"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _settings(database_url: str, port: int) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        port=port,
        mail_worker=False,
        rate_limits=RateLimits(login_per_ip=RateLimit(10**9, 900)),
    )


async def seed(database_url: str, installations: int, installers: int) -> None:
    """One company, its administrator, ``installers`` installers and the installations."""
    core = build_core(_settings(database_url, 8080))
    try:
        await migrate(core.engine)
        password_hash = await core.passwords.hash(PASSWORD)
        async with core.tx() as db:
            if await db.scalar(select(User).where(User.email == ADMIN)) is not None:
                return
            await seed_company(
                db,
                core.now(),
                installations=installations,
                installers=installers,
                password_hash=password_hash,
            )
    finally:
        await core.close()


Request = Callable[[aiohttp.ClientSession], Awaitable[int]]


async def hammer(
    setup: Callable[[aiohttp.ClientSession], Awaitable[None]],
    request: Request,
    seconds: float,
    concurrency: int,
) -> tuple[list[float], float]:
    """Send requests from ``concurrency`` clients for ``seconds``; latencies and wall time."""
    latencies: list[float] = []
    deadline = 0.0

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            status = await request(session)
            if status >= 400:
                raise RuntimeError(f"HTTP {status}")
            latencies.append(time.perf_counter() - start)

    sessions = [
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in range(concurrency)
    ]
    try:
        for session in sessions:
            await setup(session)
        begin = time.perf_counter()
        deadline = begin + seconds
        await asyncio.gather(*(worker(session) for session in sessions))
        return latencies, time.perf_counter() - begin
    finally:
        for session in sessions:
            await session.close()


def scenarios(portal: str, bare: str) -> list[tuple[str, Callable[..., Awaitable[None]], Request]]:
    """(name, per-client setup, request) of every measured scenario."""
    tokens: dict[int, str] = {}

    async def nothing(session: aiohttp.ClientSession) -> None:
        return None

    async def csrf(session: aiohttp.ClientSession) -> None:
        async with session.get(portal + "/login") as response:
            match = CSRF_RE.search(await response.text())
            assert match
            tokens[id(session)] = match.group(1)

    def logged_in(email: str) -> Callable[[aiohttp.ClientSession], Awaitable[None]]:
        async def setup(session: aiohttp.ClientSession) -> None:
            await csrf(session)
            data = {"email": email, "password": PASSWORD, "csrf_token": tokens[id(session)]}
            async with session.post(portal + "/login", data=data, allow_redirects=False) as r:
                assert r.status == 303, r.status

        return setup

    async def bare_get(session: aiohttp.ClientSession) -> int:
        async with session.get(bare + "/") as response:
            await response.read()
            return response.status

    async def login(session: aiohttp.ClientSession) -> int:
        data = {"email": ADMIN, "password": PASSWORD, "csrf_token": tokens[id(session)]}
        async with session.post(portal + "/login", data=data, allow_redirects=False) as response:
            await response.read()
            session.cookie_jar.clear(lambda c: c.key == "portal_session")
            return response.status

    def listing(path: str) -> Request:
        async def get(session: aiohttp.ClientSession) -> int:
            async with session.get(portal + path, allow_redirects=False) as response:
                await response.read()
                return response.status

        return get

    return [
        ("bare aiohttp handler", nothing, bare_get),
        ("login (argon2id t=3, 64 MiB)", csrf, login),
        ("installations, admin (10,000)", logged_in(ADMIN), listing("/installations")),
        (
            "installations, admin, offline",
            logged_in(ADMIN),
            listing("/installations?status=offline"),
        ),
        (
            "installations, installer (200)",
            logged_in(installer_email(7)),
            listing("/installations"),
        ),
        ("login page (GET)", nothing, listing("/login")),
    ]


def _report(name: str, latencies: list[float], wall: float, bare_rps: float | None) -> float:
    latencies.sort()
    rps = len(latencies) / wall
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
    ratio = f"{rps / bare_rps:8.3f}" if bare_rps else "   1.000"
    print(f"{name:<34} {len(latencies):>7} {p50:>9.2f} {p95:>9.2f} {rps:>9.1f} {ratio}")
    return rps


async def run(args: argparse.Namespace) -> None:
    """Seed, start both servers, measure, print."""
    with tempfile.TemporaryDirectory() as directory:
        database_url = args.database_url or f"sqlite+aiosqlite:///{directory}/bench.db"
        started = time.perf_counter()
        await seed(database_url, args.installations, args.installers)
        print(
            f"Seeded {args.installations} installations and {args.installers} installers "
            f"in {time.perf_counter() - started:.1f} s ({database_url.split(':')[0]})"
        )
        portal_port, bare_port = free_port(), free_port()
        me = [sys.executable, "-m", "benchmarks.portal"]
        children = [
            await asyncio.create_subprocess_exec(
                *me, "--serve-portal", str(portal_port), "--database-url", database_url
            ),
            await asyncio.create_subprocess_exec(*me, "--serve-bare", str(bare_port)),
        ]
        try:
            portal, bare = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{bare_port}"
            await wait_ready(portal + "/healthz")
            await wait_ready(bare + "/")
            print(
                f"{args.seconds:g} s per scenario, {args.concurrency} concurrent clients, "
                "server and bare handler in their own processes\n"
            )
            header = ("scenario", "requests", "p50 ms", "p95 ms", "req/s", "vs bare")
            print("{:<34} {:>7} {:>9} {:>9} {:>9} {:>8}".format(*header))
            bare_rps: float | None = None
            for name, setup, request in scenarios(portal, bare):
                latencies, wall = await hammer(setup, request, args.seconds, args.concurrency)
                rps = _report(name, latencies, wall, bare_rps)
                bare_rps = bare_rps or rps
        finally:
            for child in children:
                child.terminate()
                await child.wait()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--installations", type=int, default=10_000)
    parser.add_argument("--installers", type=int, default=50)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--serve-portal", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_portal:
        serve_portal(_settings(args.database_url, args.serve_portal))
    elif args.serve_bare:
        serve_bare(args.serve_bare)
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
