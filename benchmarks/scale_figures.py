"""The scale figures side by side: 1,000 and 10,000 homes, one instance and two behind nginx.

Run: ``.venv/bin/python -m benchmarks.scale_figures [--database-url postgresql+asyncpg://...]
[--sizes 1000 10000] [--seconds 20] [--scale 60] [--alerts 200]`` (without a database URL it
starts a PostgreSQL server of its own, as the tests do).

For each size and each layout (one portal process; two behind nginx, the shipped site file
with TLS, as ``tests/companion/test_scale_nginx.py`` runs it) the portals start afresh on the
seeded database, as after a restart, and:

- storm: every Home Assistant connects at once (``hello``, ``welcome``, a snapshot of 5
  devices: what the box says now, which the portal holds, its digest chained through the
  earlier rows' updates as Home Assistant chains it), honouring ``503`` +
  ``Retry-After`` with jitter: seconds until the last welcome, and the refusals;
- memory: the portals' resident set after the storm minus before it, per connection;
- traffic for ``--seconds``: every home at ``--scale`` times a real home's rates (a radio
  level change every 3 minutes) while ``--alerts`` alerts spread over the phase are timed
  from the box's send to the portal's ``ack`` (sent once the alert is stored): frames/s sent,
  alert latency p50/p99, and the alerts not acknowledged within a minute (lost).

A table row as each run ends, with the machine's load average beside it. The generator raises its
own open-file limit; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
from pathlib import Path
import random
import resource
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp
from sqlalchemy import update

from benchmarks.load import UPDATE_EVERY, percentile, raise_file_limit
from benchmarks.portal_ws import Client, Probe, seed, seeded_devices
from benchmarks.serve import wait_ready
from companion_server.db import create_engine
from companion_server.models import InstallationState
from tests.companion.helpers import free_port, psql, start_postgres, stop_postgres
from tests.companion.test_scale_nginx import NGINX, make_certificate, nginx_config


def start_portal(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """One portal process (``benchmarks.load --serve``) on a free port, and its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.load", "--serve", str(port),
         "--database-url", database_url],
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def start_proxy(
    directory: Path, ports: list[int], homes: int
) -> tuple[subprocess.Popen[bytes], str, Path, int]:
    """The shipped nginx site in front of ``ports``: process, URL, certificate, workers.

    A worker holds two sockets per home (to Home Assistant and to a portal) and cannot open
    more files than the hard limit it inherits (``worker_rlimit_nofile`` above it fails
    without the privilege to raise it): past it, the homes left over wait in the listen
    queue, never accepted. So the homes are spread over as many workers as that takes,
    with a third more for the uneven share each worker accepts.
    """
    cert, key = make_certificate(directory)
    port = free_port()
    config = nginx_config(directory, port, ports, cert, key)
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    workers = max(1, math.ceil(2 * homes * 4 / 3 / (limit - 100)))
    config.write_text(
        config.read_text().replace(
            "worker_processes 1;\nevents { worker_connections 1024; }",
            f"worker_processes {workers};\nworker_rlimit_nofile {limit};\n"
            f"events {{ worker_connections {limit}; }}",
        )
    )
    process = subprocess.Popen([NGINX, "-p", str(directory), "-c", str(config)])
    return process, f"https://127.0.0.1:{port}", cert, workers


async def wait_through(session: aiohttp.ClientSession, url: str) -> None:
    """Wait until ``url`` answers through ``session`` (nginx and its certificate)."""
    for _ in range(600):
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


async def offline(database_url: str) -> None:
    """Every installation shown offline, as after a clean stop of every instance."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(InstallationState).values(connected=False))
    finally:
        await engine.dispose()


# An alert not acknowledged within this is counted lost (its connection went away).
ALERT_PATIENCE = 60.0
# A storm not over after this is reported as it stands (homes not welcomed), not waited for.
STORM_PATIENCE = 300.0


async def traffic(
    clients: list[Client], seconds: float, scale: float, alerts: int
) -> tuple[float, list[float], int]:
    """Frames a second sent, the alerts' latencies (seconds), the alerts not acknowledged."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    every = UPDATE_EVERY / scale
    latencies: list[float] = []
    lost = 0

    async def home(client: Client) -> None:
        await asyncio.sleep(random.uniform(0, every))
        while loop.time() < end:
            await client.update()
            await asyncio.sleep(every)

    async def alert(client: Client, at: float) -> None:
        nonlocal lost
        await asyncio.sleep(at)
        began = time.perf_counter()
        try:
            async with asyncio.timeout(ALERT_PATIENCE):
                await client.probe()
        except TimeoutError:
            lost += 1
            return
        latencies.append(time.perf_counter() - began)

    before = sum(c.sent for c in clients)
    started = time.perf_counter()
    await asyncio.gather(
        *(home(c) for c in clients),
        *(alert(random.choice(clients), seconds * k / alerts) for k in range(alerts)),
    )
    wall = time.perf_counter() - started
    return (sum(c.sent for c in clients) - before) / wall, latencies, lost


async def measure(
    args: argparse.Namespace,
    size: int,
    instances: int,
    directory: Path,
    boxes: dict[int, list[dict[str, Any]]],
) -> list[str]:
    """One row of the table; ``boxes``: what each home's box says, carried from row to row."""
    await offline(args.database_url)
    portals = [start_portal(args.database_url) for _ in range(instances)]
    proxy = None
    workers = 0
    ssl_context: ssl.SSLContext | bool = False
    urls = [url for _, url in portals]
    try:
        for url in urls:
            await wait_ready(url + "/healthz")
        if instances > 1:
            proxy_dir = directory / f"nginx-{size}-{instances}"
            proxy_dir.mkdir()
            process, url, cert, workers = start_proxy(
                proxy_dir, [int(u.rsplit(":", 1)[1]) for u in urls], size
            )
            proxy = process
            ssl_context = ssl.create_default_context(cafile=str(cert))
            urls = [url]
        probes = [Probe(process.pid) for process, _ in portals]
        idle = sum(p.rss_mib() for p in probes)
        connector = aiohttp.TCPConnector(limit=0, ssl=ssl_context)
        async with aiohttp.ClientSession(connector=connector) as session:
            if proxy is not None:
                await wait_through(session, urls[0] + "/healthz")
            clients = [
                Client(n, session, urls[0], boxes.setdefault(n, seeded_devices(n)))
                for n in range(size)
            ]
            started = time.perf_counter()
            storm_over = asyncio.gather(*(c.connect() for c in clients))
            try:
                async with asyncio.timeout(STORM_PATIENCE):
                    await storm_over
            except TimeoutError:
                pass
            storm = time.perf_counter() - started
            refused = sum(c.refused for c in clients)
            left_out = sum(1 for c in clients if c.reader is None)
            clients = [c for c in clients if c.reader is not None]
            loaded = sum(p.rss_mib() for p in probes)
            rate, latencies, lost = await traffic(clients, args.seconds, args.scale, args.alerts)
            await asyncio.gather(*(client.close() for client in clients))
        layout = "1 instance"
        if instances > 1:
            layout = f"{instances} behind nginx ({workers} worker{'s' if workers > 1 else ''})"
        return [
            f"{size:,}",
            layout,
            f"{storm:.1f}" + (f" ({left_out:,} not welcomed)" if left_out else ""),
            f"{refused:,}",
            f"{rate:.0f}",
            f"{1000 * percentile(latencies, 0.5):.0f}",
            f"{1000 * percentile(latencies, 0.99):.0f}",
            f"{lost}",
            f"{(loaded - idle) * 1024 / size:.1f}",
        ]
    finally:
        if proxy is not None:
            proxy.send_signal(signal.SIGQUIT)
            proxy.wait()
        for process, _ in portals:
            process.terminate()
        for process, _ in portals:
            process.wait()


async def run(args: argparse.Namespace) -> None:
    """Seed the largest size once, then every size and layout; a row as each ends.

    Without ``--database-url``: on a PostgreSQL server of its own (as the tests start one).
    """
    if args.database_url is None:
        server = start_postgres(free_port())
        try:
            psql(server.url, "CREATE DATABASE scale_figures")
            args.database_url = server.url.rsplit("/", 1)[0] + "/scale_figures"
            await run(args)
        finally:
            stop_postgres(server)
        return
    limit = raise_file_limit()
    await seed(args.database_url, max(args.sizes))
    print(
        f"open-file limit {limit}; {len(os.sched_getaffinity(0))} cores; load average before "
        f"{load_average()}; {args.scale:g}x a home's rates for {args.seconds:g} s"
    )
    header = (
        "homes",
        "portal",
        "storm s",
        "refused",
        "frames/s",
        "alert p50 ms",
        "p99 ms",
        "alerts lost",
        "KiB/conn",
    )
    print("| " + " | ".join(header) + " | load average |")
    print("|" + "---|" * (len(header) + 1), flush=True)
    # A home's box keeps its radio levels from one row to the next, as a real one does across
    # a portal restart: the snapshot after a restart is the one the portal holds.
    boxes: dict[int, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for size in args.sizes:
            for instances in (1, 2):
                row = await measure(args, size, instances, Path(directory), boxes)
                print("| " + " | ".join(row) + f" | {load_average()} |", flush=True)


def load_average() -> str:
    """The machine's load average (1, 5, 15 minutes): a shared machine skews every figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", help="PostgreSQL (asyncpg URL); default: its own")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--scale", type=float, default=60.0, help="speed-up of a home's rates")
    parser.add_argument("--alerts", type=int, default=200)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
