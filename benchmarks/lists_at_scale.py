"""The portal's lists at 10,000 and 100,000 installations, beside a bare aiohttp handler.

Run: ``.venv/bin/python -m benchmarks.lists_at_scale [--sizes 10000 100000] [--seconds 5]
[--concurrency 8] [--sequential 100] [--backends sqlite postgresql] [--cases ...]
[--database-url URL] [--no-pair]`` (PostgreSQL: a server of its own, started as the tests
start it; ``--database-url``: that database, seeded with the first size unless it holds the
company already, so that runs of two revisions can be compared on the same rows).

For each backend and size, a fresh database gets one company by bulk insert (not through the
portal): the installations of ``benchmarks.work_queue`` (states, active alerts, open remote
windows, 50 installers), one customer account per ten installations, an open code for each
pending installation and a used one for each linked. The portal (``create_app``, cheap
password hashing) and a bare aiohttp handler then run each in a process of their own. One
client logged in as the administrator asks each case ``--sequential`` times, one request
after the other: the portal process's CPU time per request (from /proc, user and system),
the reliable figure on a shared machine, and the p50. Then ``--concurrency`` clients fetch
each case for ``--seconds``: p50 / p95 / p99, requests per second and again the portal's CPU
per request and the load generator's own (it shares the machine's cores). On PostgreSQL
the deployed layout follows (unless ``--no-pair``): two portal instances behind nginx, the
shipped site file with TLS and one worker (as ``benchmarks.scale_figures`` starts it), the
same clients asking the same cases through it for ``--seconds`` each (CPU per request: both
instances'). Cases: first pages, later pages by cursor (spread over the whole list), the
installations with a remote-service window open, searches (a rare text, one of two
characters, one in every name: each served differently on SQLite). The query plans of the
lists' page queries are printed (EXPLAIN), and the machine's load average beside the
figures: the machine is shared, and the database server, nginx and the load generator run
on it too. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
import os
from pathlib import Path
import random
import re
import secrets
import signal
import ssl
import sys
import tempfile
import time

import aiohttp
from sqlalchemy import insert, select, text

from benchmarks.figures import percentile
from benchmarks.portal_ws import Probe
from benchmarks.scale_figures import start_proxy, wait_through
from benchmarks.seed import ADMIN
from benchmarks.serve import quick_settings, serve_bare, serve_portal, wait_ready
from benchmarks.work_queue import seed as seed_queue
from companion_server.core import Core, build_core
from companion_server.customers.accounts import portal_company_id
from companion_server.db import migrate
from companion_server.keyset import encode_cursor
from companion_server.models import (
    CustomerInstallation,
    Installation,
    Registration,
    Role,
    User,
)
from companion_server.settings import RateLimit, RateLimits, Settings
from tests.companion.helpers import free_port, psql, start_postgres, stop_postgres

PASSWORD = "benchmark password 1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CUSTOMER_EVERY = 10
CURSORS = 40  # later pages asked for, spread over the list
WARM_UP = 20  # requests of each case before its CPU time is read

# The page queries of the lists, as the services send them (literal values for EXPLAIN).
PLANS = {
    "installations problems first, later page (two ranges)": (
        "SELECT id FROM installations WHERE company_id = {company} AND attention = 0 "
        "AND id < 50000 ORDER BY attention DESC, id DESC LIMIT 51"
    ),
    "installations, count offline (bounded)": (
        "SELECT count(*) FROM (SELECT id FROM installations WHERE company_id = {company} "
        "AND attention IN (6, 2) LIMIT 1001) AS bounded"
    ),
    "installations, count pending (bounded)": (
        "SELECT count(*) FROM (SELECT id FROM installations WHERE company_id = {company} "
        "AND status = 'pending' LIMIT 1001) AS bounded"
    ),
    "installations by name, later page": (
        "SELECT id FROM installations WHERE company_id = {company} AND "
        "name >= 'Installation 50000' AND (name > 'Installation 50000' OR "
        "(name = 'Installation 50000' AND id > 0)) "
        "ORDER BY name, id LIMIT 51"
    ),
    "installations search (contains)": (
        "SELECT count(*) FROM installations WHERE company_id = {company} AND "
        "(lower(name) LIKE '%customer4242%' OR lower(customer_email) LIKE '%customer4242%')"
    ),
    "customers, later page": (
        "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM customer_installations ci "
        "JOIN installations i ON i.id = ci.installation_id WHERE ci.customer_id = u.id "
        "AND i.company_id = {company}) AND u.name >= 'Customer 005000' AND "
        "(u.name > 'Customer 005000' OR "
        "(u.name = 'Customer 005000' AND u.id > 0)) ORDER BY u.name, u.id LIMIT 51"
    ),
    "customers, their installations": (
        "SELECT ci.customer_id, i.name, i.id, i.company_id FROM customer_installations ci "
        "JOIN installations i ON i.id = ci.installation_id "
        "WHERE ci.customer_id IN (60, 61, 62)"
    ),
    "registration requests, first page": (
        "SELECT r.id FROM installations i JOIN registrations r ON r.installation_id = i.id "
        "WHERE i.company_id = {company} AND i.status = 'pending' AND r.superseded_at IS NULL "
        "AND r.used_at IS NULL ORDER BY r.id DESC LIMIT 51"
    ),
}


def _settings(database_url: str, port: int = 8080, behind_proxy: bool = False) -> Settings:
    return quick_settings(
        database_url,
        port=port,
        rate_limits=RateLimits(login_per_ip=RateLimit(10**9, 900)),
        trusted_proxies=("127.0.0.1",) if behind_proxy else (),
    )


async def seed(core: Core, installations: int) -> None:
    """The company (see the module's text)."""
    admin_id, _ = await seed_queue(core, installations, 50)
    now = core.now()
    async with core.tx() as db:
        admin = await db.get(User, admin_id)
        assert admin is not None
        admin.password_hash = await core.passwords.hash(PASSWORD)
        company_id = admin.company_id
        sites = (
            await db.execute(
                select(Installation.id, Installation.status)
                .where(Installation.company_id == company_id)
                .order_by(Installation.id)
            )
        ).all()
        portal = await portal_company_id(db, now)
        await db.execute(
            insert(User),
            [
                {
                    "company_id": portal,
                    "email": f"customer{n}@home.example",
                    "name": f"Customer {n:06}",
                    "password_hash": "x",
                    "role": Role.CUSTOMER.value,
                    "language": "en",
                    "failed_logins": 0,
                    "created_at": now,
                }
                for n in range(0, len(sites), CUSTOMER_EVERY)
            ],
        )
        customers = (
            await db.execute(select(User.id).where(User.company_id == portal).order_by(User.name))
        ).all()
        await db.execute(
            insert(CustomerInstallation),
            [
                {"customer_id": c.id, "installation_id": sites[n * CUSTOMER_EVERY].id,
                 "created_at": now}
                for n, c in enumerate(customers)
            ],
        )  # fmt: skip
        await db.execute(
            insert(Registration),
            [
                {
                    "installation_id": site.id,
                    "email": f"customer{n}@example.com",
                    "language": "en",
                    "code_hash": secrets.token_hex(32),
                    "created_at": now,
                    "expires_at": now + timedelta(days=7),
                    "used_at": None if site.status == "pending" else now,
                    "failed_attempts": 0,
                }
                for n, site in enumerate(sites)
            ],
        )


async def company_of(core: Core) -> tuple[int, int, dict[str, list[str]]]:
    """The seeded company's id, its installations and cursors into the lists by case."""
    async with core.tx() as db:
        company_id = await db.scalar(select(User.company_id).where(User.email == ADMIN))
        assert company_id is not None
        # Scored by the database as the rows went in.
        scored = (
            await db.execute(
                select(Installation.attention, Installation.name, Installation.id)
                .where(Installation.company_id == company_id)
                .order_by(Installation.attention.desc(), Installation.id.desc())
            )
        ).all()
        portal = await portal_company_id(db, core.now())
        customers = (
            await db.execute(
                select(User.id, User.name).where(User.company_id == portal).order_by(User.name)
            )
        ).all()
        codes = (
            await db.scalars(
                select(Registration.id)
                .join(Installation, Installation.id == Registration.installation_id)
                .where(Installation.company_id == company_id, Registration.used_at.is_(None))
                .order_by(Registration.id.desc())
            )
        ).all()
    by_name = sorted(scored, key=lambda s: (s.name, s.id))
    return (
        company_id,
        len(scored),
        {
            "name": [encode_cursor(s.name, s.id) for s in _spread(by_name)],
            "problems": [encode_cursor(s.attention, s.id) for s in _spread(scored)],
            "customers": [encode_cursor(c.name, c.id) for c in _spread(customers)],
            "codes": [str(code) for code in _spread(codes)],
        },
    )


def _spread[Row](rows: Sequence[Row]) -> Sequence[Row]:
    """:data:`CURSORS` rows spread over ``rows``."""
    return rows[max(1, len(rows) // CURSORS) :: max(1, len(rows) // CURSORS)]


async def explain(core: Core, company_id: int) -> None:
    """Print how the database serves each list's page query."""
    dialect = core.engine.dialect.name
    if dialect == "postgresql":
        # As autovacuum does within a minute of a bulk load (its insert threshold, PostgreSQL
        # 13 on). Without statistics, PostgreSQL guesses 0.5 % of the installations for one
        # company and reads all 100,000 for a page of customers; without the visibility map,
        # each "index-only" count visits the table for every entry: the counts of a page took
        # 10-19 ms instead of 1.2 ms, and the figures measured a database never vacuumed.
        async with core.engine.connect() as conn:
            vacuum = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await vacuum.execute(text("VACUUM ANALYZE"))
    async with core.engine.connect() as conn:
        for name, sql in PLANS.items():
            query = sql.format(company=company_id)
            if dialect == "sqlite":
                rows = (await conn.execute(text("EXPLAIN QUERY PLAN " + query))).all()
                plan = "; ".join(str(row[-1]) for row in rows)
            else:
                rows = (await conn.execute(text("EXPLAIN " + query))).all()
                plan = " | ".join(" ".join(str(row[0]).split()) for row in rows)
            print(f"  plan, {name}: {plan}")


async def login(session: aiohttp.ClientSession, base: str) -> None:
    async with session.get(base + "/login") as response:
        match = CSRF.search(await response.text())
    assert match
    data = {"email": ADMIN, "password": PASSWORD, "csrf_token": match.group(1)}
    async with session.post(base + "/login", data=data, allow_redirects=False) as response:
        assert response.status == 303, response.status


async def timed_get(session: aiohttp.ClientSession, url: str) -> float:
    """One page read whole: its latency (anything but a 200 ends the run, a figure would lie)."""
    start = time.perf_counter()
    async with session.get(url, allow_redirects=False) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
    return time.perf_counter() - start


async def hammer(
    sessions: list[aiohttp.ClientSession], url: Callable[[], str], seconds: float
) -> tuple[list[float], float]:
    """Every session asks ``url()`` in turn for ``seconds``: latencies and wall time."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            latencies.append(await timed_get(session, url()))

    begin = time.perf_counter()
    await asyncio.gather(*(client(session) for session in sessions))
    return latencies, time.perf_counter() - begin


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def cases(base: str, bare: str, cursors: dict[str, list[str]]) -> dict[str, Callable[[], str]]:
    """The URL of each case (a later page: one of the cursors at random)."""
    return {
        "bare aiohttp handler": lambda: bare + "/",
        "installations, first page": lambda: base + "/installations",
        "installations, later pages": lambda: (
            f"{base}/installations?after={random.choice(cursors['problems'])}"
        ),
        "installations offline, by name": lambda: base + "/installations?status=offline&sort=name",
        "installations by name, first page": lambda: base + "/installations?sort=name",
        "installations by name, later pages": lambda: (
            f"{base}/installations?sort=name&after={random.choice(cursors['name'])}"
        ),
        "installations with a window open": lambda: base + "/installations?status=window",
        "installations, search": lambda: base + "/installations?q=customer4242",
        "installations, search of 2 characters": lambda: base + "/installations?q=42",
        "installations, search in every name": lambda: base + "/installations?q=install",
        "customers, first page": lambda: base + "/customers",
        "customers, later pages": lambda: (
            f"{base}/customers?after={random.choice(cursors['customers'])}"
        ),
        "registration requests": lambda: base + "/installations/registrations",
        "registration requests, later pages": lambda: (
            f"{base}/installations/registrations?after={random.choice(cursors['codes'])}"
        ),
    }


async def sequential(
    session: aiohttp.ClientSession, url: Callable[[], str], count: int
) -> list[float]:
    """``count`` requests one after the other: their latencies."""
    return [await timed_get(session, url()) for _ in range(count)]


async def measure(database_url: str, size: int, args: argparse.Namespace) -> None:
    settings = _settings(database_url)
    core = build_core(settings)
    dialect = core.engine.dialect.name
    try:
        await migrate(core.engine)
        started = time.perf_counter()
        async with core.tx() as db:
            seeded = await db.scalar(select(User.id).where(User.email == ADMIN))
        if seeded is None:
            await seed(core, size)
        company_id, installations, cursors = await company_of(core)
        print(
            f"\n{core.engine.dialect.name}, {installations:,} installations "
            f"({installations // CUSTOMER_EVERY:,} customers), "
            + (f"seeded in {time.perf_counter() - started:.1f} s" if seeded is None else "reused")
            + f"; {load()}"
        )
        await explain(core, company_id)
    finally:
        await core.close()
    portal_port, bare_port = free_port(), free_port()
    command = [sys.executable, "-m", "benchmarks.lists_at_scale", "--database-url", database_url]
    children = [
        await asyncio.create_subprocess_exec(*command, "--serve", str(portal_port)),
        await asyncio.create_subprocess_exec(*command, "--serve-bare", str(bare_port)),
    ]
    probes = [Probe(child.pid) for child in children]
    sessions = [
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        for _ in range(args.concurrency)
    ]
    try:
        base, bare = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{bare_port}"
        await wait_ready(base + "/healthz")
        await wait_ready(bare + "/")
        for session in sessions:
            await login(session, base)
        chosen = {
            name: url
            for name, url in cases(base, bare, cursors).items()
            if not args.cases or any(part in name for part in args.cases)
        }
        # CPU time of the portal's process (the bare handler's for its case) per request:
        # on a shared machine, the figure that does not depend on what else runs.
        print(
            f"  one client, {args.sequential} requests one after the other "
            f"(after {WARM_UP} to warm up); {load()}"
        )
        print(f"  {'case':<38} {'CPU ms/req':>10} {'p50 ms':>8}")
        for name, url in chosen.items():
            probe = probes[1] if name.startswith("bare") else probes[0]
            await sequential(sessions[0], url, WARM_UP)
            cpu = probe.cpu_seconds()
            ms = [v * 1000 for v in await sequential(sessions[0], url, args.sequential)]
            per_request = (probe.cpu_seconds() - cpu) * 1000 / args.sequential
            print(f"  {name:<38} {per_request:>10.2f} {percentile(ms, 50):>8.1f}")
        if not args.seconds:
            return
        print(f"  {args.concurrency} clients for {args.seconds:g} s per case; {load()}")
        await concurrently(
            sessions,
            {name: (url, [probes[1] if name.startswith("bare") else probes[0]])
             for name, url in chosen.items()},
            args.seconds,
        )  # fmt: skip
        print(f"  {load()}")
    finally:
        for session in sessions:
            await session.close()
        for child in children:
            child.terminate()
            await child.wait()
    if dialect == "postgresql" and args.pair and args.seconds:
        await pair(database_url, cursors, args)


async def concurrently(
    sessions: list[aiohttp.ClientSession],
    chosen: dict[str, tuple[Callable[[], str], list[Probe]]],
    seconds: float,
) -> None:
    """Every case for ``seconds`` by every session: a table row each.

    CPU per request: the processes' (``probes``: the portals' or the bare handler's) and
    this load generator's own (the client's share of the machine's two cores).
    """
    print(
        f"  {'case':<38} {'requests':>8} {'CPU ms/req':>10} {'client ms':>9} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}"
    )
    for name, (url, probes) in chosen.items():
        cpu = sum(probe.cpu_seconds() for probe in probes)
        own = time.process_time()
        latencies, wall = await hammer(sessions, url, seconds)
        own = (time.process_time() - own) * 1000 / len(latencies)
        per_request = (sum(probe.cpu_seconds() for probe in probes) - cpu) * 1000 / len(latencies)
        ms = [v * 1000 for v in latencies]
        print(
            f"  {name:<38} {len(ms):>8} {per_request:>10.2f} {own:>9.2f} "
            f"{percentile(ms, 50):>8.1f} {percentile(ms, 95):>8.1f} {percentile(ms, 99):>8.1f} "
            f"{len(ms) / wall:>8.1f}"
        )


async def pair(database_url: str, cursors: dict[str, list[str]], args: argparse.Namespace) -> None:
    """The deployed layout: two portal instances behind nginx (TLS), the same cases.

    The shipped site file as ``benchmarks.scale_figures`` runs it (one nginx worker), each
    instance trusting the proxy's ``X-Forwarded-*`` as deployed; the clients log in and ask
    through nginx, which spreads their keep-alive connections' requests over both.
    """
    ports = [free_port(), free_port()]
    command = [sys.executable, "-m", "benchmarks.lists_at_scale", "--database-url", database_url]
    children = [
        await asyncio.create_subprocess_exec(*command, "--serve", str(port), "--behind-proxy")
        for port in ports
    ]
    probes = [Probe(child.pid) for child in children]
    with tempfile.TemporaryDirectory() as directory:
        proxy, base, cert, _ = start_proxy(Path(directory), ports, args.concurrency)
        context = ssl.create_default_context(cafile=str(cert))
        sessions = [
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context),
                cookie_jar=aiohttp.CookieJar(unsafe=True),
            )
            for _ in range(args.concurrency)
        ]
        try:
            for port in ports:
                await wait_ready(f"http://127.0.0.1:{port}/healthz")
            await wait_through(sessions[0], base + "/healthz")
            for session in sessions:
                await login(session, base)
            chosen = {
                name: (url, probes)
                for name, url in cases(base, base, cursors).items()
                if not name.startswith("bare")
                and (not args.cases or any(part in name for part in args.cases))
            }
            for session in sessions:  # every connection warm (TLS handshake, upstreams)
                await sequential(session, next(iter(chosen.values()))[0], 2)
            print(
                f"  two portal instances behind nginx (TLS, 1 worker), {args.concurrency} "
                f"clients for {args.seconds:g} s per case; {load()}"
            )
            await concurrently(sessions, chosen, args.seconds)
            print(f"  {load()}")
        finally:
            for session in sessions:
                await session.close()
            proxy.send_signal(signal.SIGQUIT)
            proxy.wait()
            for child in children:
                child.terminate()
                await child.wait()


async def run(args: argparse.Namespace) -> None:
    print(
        f"Portal and bare handler each in a process of their own, clients logged in as the "
        f"administrator; {load()}"
    )
    if args.database_url:
        await measure(args.database_url, args.sizes[0], args)
        return
    for backend in args.backends:
        for size in args.sizes:
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as directory:
                    await measure(f"sqlite+aiosqlite:///{directory}/lists.db", size, args)
                continue
            server = start_postgres(free_port())
            try:
                psql(server.url, "CREATE DATABASE lists")
                await measure(server.url.rsplit("/", 1)[0] + "/lists", size, args)
            finally:
                stop_postgres(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=float, default=5.0, help="0: no concurrent run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--cases", nargs="*", help="only the cases whose name holds one of these")
    parser.add_argument(
        "--database-url", help="this database (seeded with the first size unless it is already)"
    )
    parser.add_argument(
        "--no-pair",
        dest="pair",
        action="store_false",
        help="PostgreSQL: no run of two instances behind nginx",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--behind-proxy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_portal(_settings(args.database_url, port=args.serve, behind_proxy=args.behind_proxy))
    elif args.serve_bare:
        serve_bare(args.serve_bare)
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
