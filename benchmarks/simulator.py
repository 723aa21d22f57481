"""Requests per second of the simulator for ``setup`` and ``events/fetch`` (``large`` scenario).

Run: ``.venv/bin/python -m benchmarks.simulator [--seconds 5] [--concurrency 8]``.
The simulator runs in its own process, as it would for a real client; figures are printed,
nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time

import aiohttp

from tests.portal_app import free_port

TOKEN = "benchmark-token"


async def wait_ready(url: str) -> None:
    """Wait until the simulator answers."""
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(url + "apiVersion", ssl=False) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError("simulator did not start")


async def hammer(
    url: str,
    method: str,
    path_fn: Callable[[aiohttp.ClientSession], Awaitable[str]],
    seconds: float,
    concurrency: int,
) -> list[float]:
    """Send requests from ``concurrency`` workers for ``seconds``; return latencies."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession, path: str) -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            async with session.request(method, url + path, headers=headers, ssl=False) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status}")
            latencies.append(time.perf_counter() - start)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        paths = [await path_fn(session) for _ in range(concurrency)]
        await asyncio.gather(*(worker(session, p) for p in paths))
    return latencies


def report(name: str, latencies: list[float], seconds: float) -> None:
    """Print throughput and latency percentiles."""
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(f"{name:<14} {len(ordered) / seconds:8.1f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


async def main(seconds: float, concurrency: int) -> None:
    """Start the simulator with the large scenario and measure both endpoints."""
    port = free_port()
    with tempfile.TemporaryDirectory() as state:
        process = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
            [
                sys.executable,
                "-m",
                "box_simulator",
                "--scenario",
                "large",
                "--port",
                str(port),
                "--token",
                TOKEN,
                "--no-zeroconf",
                "--state-dir",
                str(Path(state)),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            url = f"https://127.0.0.1:{port}/enduser-mobile-web/1/enduserAPI/"
            await wait_ready(url)

            async def setup_path(_: aiohttp.ClientSession) -> str:
                return "setup"

            async def fetch_path(session: aiohttp.ClientSession) -> str:
                headers = {"Authorization": f"Bearer {TOKEN}"}
                async with session.post(url + "events/register", headers=headers, ssl=False) as r:
                    return f"events/{(await r.json())['id']}/fetch"

            print(f"scenario 'large' (200 devices), {concurrency} clients, {seconds:.0f} s each")
            report("setup", await hammer(url, "GET", setup_path, seconds, concurrency), seconds)
            report(
                "events/fetch", await hammer(url, "POST", fetch_path, seconds, concurrency), seconds
            )
        finally:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency))
