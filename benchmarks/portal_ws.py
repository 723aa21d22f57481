"""1,000 simulated Home Assistant connections streaming telemetry into one portal process.

Run: ``.venv/bin/python -m benchmarks.portal_ws [--connections 1000] [--rate 1]
[--seconds 10] [--burst 20] [--database-url postgresql+asyncpg://...]``.

The database gets one company with ``--connections`` linked installations, monitoring
granted. The portal runs in its own process; this process opens one WebSocket per
installation (``hello``, then a ``snapshot`` of 5 devices unless the ``welcome`` names the one
the portal holds) and measures:

- memory: the portal's resident set before and after the connections (per connection);
- paced telemetry: every connection sends ``--rate`` ``device_update`` frames a second
  (radio level changes) for ``--seconds``;
- a burst: every connection sends ``--burst`` frames back to back.

Every update changes a radio level, so the portal stores one radio sample per frame: the
benchmark counts them in the database to know how many frames were processed. Frames per
second = frames sent / (time until the last one is stored); "drain" is how long that took
after the last frame was sent (a portal that keeps up drains in well under a second). CPU
is the portal process's user + system time over the phase (100 % = one core). Figures are
printed; nothing is asserted.

Over 400 lines in one file: a benchmark runs as one script, load generator and report together.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import random
import sys
import tempfile
import time
from typing import Any
import uuid

import aiohttp
from sqlalchemy import func, insert, select

from benchmarks.seed import add_installations, box_pin
from benchmarks.serve import SECRET, serve_portal, wait_ready
from companion_server.core import build_core
from companion_server.db import create_engine, migrate
from companion_server.hub.protocol import snapshot_digest
from companion_server.models import (
    Company,
    Device,
    InstallationLink,
    InstallationState,
    RadioSample,
)
from companion_server.security.tokens import hash_token
from companion_server.settings import Settings
from tests.portal_app import free_port

DEVICES = 5


def _settings(database_url: str, port: int) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, port=port, mail_worker=False)


def _token(n: int) -> str:
    return f"bench-token-{n:06d}-" + "x" * 40


async def seed(database_url: str, connections: int) -> None:
    """One company and ``connections`` linked installations with monitoring granted."""
    core = build_core(_settings(database_url, 8080))
    try:
        await migrate(core.engine)
        async with core.tx() as db:
            if await db.scalar(select(Company).where(Company.name == "WS Bench")) is not None:
                return
            now = core.now()
            company = Company(name="WS Bench", created_at=now)
            db.add(company)
            await db.flush()
            ids = await add_installations(db, company.id, now, connections)
            await db.execute(
                insert(InstallationLink),
                [
                    {
                        "installation_id": installation_id,
                        "token_hash": hash_token(_token(n)),
                        "instance_id": f"ha-{n}",
                        "ha_name": f"Home {n}",
                        "created_at": now,
                    }
                    for n, installation_id in enumerate(ids)
                ],
            )
            await db.execute(
                insert(InstallationState),
                [
                    {
                        "installation_id": installation_id,
                        "monitoring": "granted",
                        "connected": False,
                        **{f"box_{key}": value for key, value in BOX.items() if key != "firmware"},
                        "firmware": BOX["firmware"],
                        "snapshot_digest": snapshot_digest(
                            {"box": BOX, "devices": seeded_devices(n)}
                        ),
                    }
                    for n, installation_id in enumerate(ids)
                ],
            )
            # What each home's snapshot will say, applied before: the storm is a restart's.
            await db.execute(
                insert(Device),
                [
                    {
                        "installation_id": installation_id,
                        **device,
                        "editable": json.dumps(device["editable"]),
                        "updated_at": now,
                        "last_sample_at": now,
                    }
                    for n, installation_id in enumerate(ids)
                    for device in seeded_devices(n)
                ],
            )
    finally:
        await core.close()


class Probe:
    """CPU time and resident memory of a process (Linux /proc)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.tick = os.sysconf("SC_CLK_TCK")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def _frame(kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"v": 1, "id": str(uuid.uuid4()), "type": kind, "payload": payload})


BOX = {"online": True, "activated": True, "up_to_date": True, "firmware": "1.0"}


def seeded_devices(n: int) -> list[dict[str, Any]]:
    """Home ``n``'s products as seeded."""
    return [
        {
            "url": f"io://{box_pin(n)}/{d}",
            "label": f"Device {d}",
            "protocol": "io",
            "ui_class": "RollerShutter",
            "online": True,
            "rssi": 50 + d,
            "rssi_level": "normal",
            "battery": None,
            "defect": None,
            "editable": [],
        }
        for d in range(DEVICES)
    ]


def retry_delay(headers: Any) -> float:
    """Seconds a 503's ``Retry-After`` asks for (1 when it says nothing usable)."""
    try:
        return max(0.0, float((headers or {}).get("Retry-After", "1")))
    except ValueError:
        return 1.0


class Client:
    """One simulated Home Assistant."""

    def __init__(
        self,
        n: int,
        session: aiohttp.ClientSession,
        base: str,
        devices: list[dict[str, Any]] | None = None,
    ) -> None:
        """``devices``: what the box says now (changed in place by the updates sent)."""
        self.n = n
        self.session = session
        self.base = base
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.acks: asyncio.Queue[str] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None
        self.sent = 0
        self.refused = 0  # attempts refused (503) or closed before the welcome
        self.retry = 1.0
        self.welcomed_at = 0.0
        # What the box says now, and the digest of its snapshot as Home Assistant chains it
        # through its updates (so a reconnection's snapshot is the one the portal holds).
        self.devices = seeded_devices(n) if devices is None else devices
        self.digest: str | None = None
        self.held: str | None = None  # the snapshot digest the last welcome named

    async def connect(self) -> None:
        """Connect as Home Assistant does: until welcomed, honouring a 503's ``Retry-After``."""
        while not await self._attempt():
            self.refused += 1
            # Jitter as Home Assistant adds it: up to a second.
            await asyncio.sleep(self.retry + random.uniform(0, 1.0))
        assert self.ws is not None
        snapshot = {"box": BOX, "devices": self.devices}
        self.digest = snapshot_digest(snapshot)
        # As Home Assistant: no snapshot when the welcome names this very one.
        if self.digest != self.held:
            await self.ws.send_str(_frame("snapshot", snapshot))
        self.reader = asyncio.create_task(self._read())

    async def _attempt(self) -> bool:
        """One connection attempt; whether it was welcomed."""
        try:
            self.ws = await self.session.ws_connect(
                self.base + "/api/v1/ws",
                headers={"Authorization": f"Bearer {_token(self.n)}"},
                heartbeat=None,
                autoping=True,
            )
        except aiohttp.WSServerHandshakeError as err:
            if err.status in (502, 504):  # a proxy found no portal free: Home Assistant's backoff
                self.retry = random.uniform(0.5, 1)
                return False
            if err.status != 503:
                raise
            self.retry = retry_delay(err.headers)
            return False
        except (aiohttp.ClientError, TimeoutError):
            self.retry = random.uniform(0.5, 1)  # Home Assistant's first backoff
            return False
        self.retry = 1.0
        hello = {
            "integration_version": "bench",
            "pin": box_pin(self.n),
            "monitoring": True,
        }
        await self.ws.send_str(_frame("hello", hello))
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            if frame["type"] == "welcome":
                self.welcomed_at = time.perf_counter()
                self.held = frame["payload"].get("snapshot_digest")
                return True
        return False

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                if data["type"] == "ack":
                    self.acks.put_nowait(data["payload"]["id"])
                elif data["type"] == "error":
                    self.acks.put_nowait(f"error:{data['payload'].get('ref')}")

    async def send(self, text: str) -> None:
        """Send one frame of the caller's."""
        assert self.ws is not None
        await self.ws.send_str(text)
        self.sent += 1

    async def update(self) -> None:
        assert self.ws is not None
        step = self.sent
        device = step % DEVICES
        # Each device alternates between two levels: every frame is a change.
        changes = {"rssi": 30 if (step // DEVICES) % 2 else 70, "online": True}
        payload: dict[str, Any] = {"url": f"io://{box_pin(self.n)}/{device}", "changes": changes}
        self.devices[device] = self.devices[device] | changes
        after = snapshot_digest({"box": BOX, "devices": self.devices})
        if self.digest is not None:
            payload["digest"] = {"from": self.digest, "to": after}
        self.digest = after
        await self.ws.send_str(_frame("device_update", payload))
        self.sent += 1

    async def probe(self) -> None:
        """An acknowledged frame; returns when every earlier frame was handled."""
        assert self.ws is not None
        frame_id = str(uuid.uuid4())
        alert = {
            "alert_id": frame_id,
            "device_url": f"io://{box_pin(self.n)}/0",
            "device_label": "Device 0",
            "type": "sensor_defect",
            "active": False,
            "at": datetime.now(UTC).isoformat(),
        }
        text = json.dumps({"v": 1, "id": frame_id, "type": "alert", "payload": alert})
        await self.ws.send_str(text)
        while (answer := await self.acks.get()) != frame_id:
            if answer == "error:" + frame_id:  # database busy: sent again, as HA does
                await asyncio.sleep(1)
                await self.ws.send_str(text)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await self.reader


async def samples(engine: Any) -> int:
    """Radio samples stored so far (one per processed update)."""
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(RadioSample))).scalar())


async def phase(name: str, clients: list[Client], probe: Probe, engine: Any, body: Any) -> None:
    """Run ``body(client)`` on every client; wait until every frame is stored; print."""
    before_sent = sum(c.sent for c in clients)
    before_stored = await samples(engine)
    cpu0, wall0 = probe.cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(body(c) for c in clients))
    sent_at = time.perf_counter()
    frames = sum(c.sent for c in clients) - before_sent
    stored = 0
    for _ in range(6000):  # 5 minutes at most
        stored = await samples(engine) - before_stored
        if stored >= frames:
            break
        await asyncio.sleep(0.05)
    if stored < frames:
        print(f"{name}: only {stored} of {frames} frames stored after 5 minutes")
    wall = time.perf_counter() - wall0
    cpu = probe.cpu_seconds() - cpu0
    lag = time.perf_counter() - sent_at
    print(
        f"{name:<30} {frames:>8} {wall:>8.1f} {frames / wall:>10.0f} "
        f"{100 * cpu / wall:>7.0f} % {lag:>8.2f} {probe.rss_mib():>9.1f}"
    )


async def run(args: argparse.Namespace) -> None:
    """Seed, start the portal, connect, stream, print."""
    with tempfile.TemporaryDirectory() as directory:
        database_url = args.database_url or f"sqlite+aiosqlite:///{directory}/bench.db"
        started = time.perf_counter()
        await seed(database_url, args.connections)
        print(
            f"Seeded {args.connections} linked installations in "
            f"{time.perf_counter() - started:.1f} s ({database_url.split(':')[0]})"
        )
        port = free_port()
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.portal_ws", "--serve", str(port),
            "--database-url", database_url, *(["--profile", args.profile] if args.profile else []),
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        engine = create_engine(database_url)
        connector = aiohttp.TCPConnector(limit=0)
        session = aiohttp.ClientSession(connector=connector)
        clients = [Client(n, session, base) for n in range(args.connections)]
        try:
            await wait_ready(base + "/healthz")
            probe = Probe(child.pid)
            await asyncio.sleep(1)
            idle = probe.rss_mib()
            cpu0, wall0 = probe.cpu_seconds(), time.perf_counter()
            limit = asyncio.Semaphore(50)

            async def connect(client: Client) -> None:
                async with limit:
                    await client.connect()

            await asyncio.gather(*(connect(c) for c in clients))
            await asyncio.gather(*(c.probe() for c in clients))
            connect_wall = time.perf_counter() - wall0
            connect_cpu = probe.cpu_seconds() - cpu0
            await asyncio.sleep(1)
            loaded = probe.rss_mib()
            print(
                f"{args.connections} connections (hello, welcome, snapshot of {DEVICES} devices)"
                f" in {connect_wall:.1f} s, portal CPU {100 * connect_cpu / connect_wall:.0f} %"
            )
            print(
                f"portal memory: {idle:.1f} MiB idle, {loaded:.1f} MiB connected: "
                f"{(loaded - idle) * 1024 / args.connections:.1f} KiB per connection\n"
            )
            header = ("phase", "frames", "wall s", "frames/s", "CPU", "drain s", "RSS MiB")
            print("{:<30} {:>8} {:>8} {:>10} {:>9} {:>8} {:>9}".format(*header))

            async def paced(client: Client) -> None:
                interval = 1 / args.rate
                await asyncio.sleep(interval * client.n / args.connections)  # spread out
                begin = time.perf_counter()
                step = 0
                while time.perf_counter() - begin < args.seconds:
                    await client.update()
                    step += 1
                    delay = begin + step * interval - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)

            async def burst(client: Client) -> None:
                for _ in range(args.burst):
                    await client.update()

            offered = args.connections * args.rate
            await phase(f"paced, {offered:g} frames/s offered", clients, probe, engine, paced)
            await phase(f"burst, {args.burst} per connection", clients, probe, engine, burst)
        finally:
            for client in clients:
                await client.close()
            await session.close()
            await engine.dispose()
            child.terminate()
            await child.wait()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1.0, help="frames/s per connection")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--profile", help="write the portal's cProfile statistics to this file")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_portal(_settings(args.database_url, args.serve), args.profile)
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
