"""Round trip of an installer's action: portal -> Home Assistant peer -> portal (p50, p99).

Run: ``python -m benchmarks.action_roundtrip [--actions 300] [--database-url URL | --postgres]``
(``--postgres``: a temporary PostgreSQL server started like the test suite's).
Prints figures, asserts nothing.

The portal runs in-process on 127.0.0.1 (SQLite file by default, or the PostgreSQL URL
given). The Home Assistant side is a PROTOCOL PEER, not the real integration: the
integration's channel does not route ``action`` frames yet, so the peer (the WebSocket
client of ``tests/companion/ha.py``) links with the code, grants a window and answers every
``action`` at once with ``ack`` + ``action_result``. The box is not involved.

One round trip: the installer's ``POST /installations/{id}/remote/reboot`` (session, CSRF,
window and kind checks, the action and its frame written in one transaction) -> the frame
pushed over the WebSocket -> the peer's ``action_result`` -> recorded in the portal (the
portal's ``ack`` of that result, sent after its transaction commits, reaches the peer).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
import json
from pathlib import Path
import statistics
import sys
import tempfile
import time
from typing import Any
import uuid

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestServer  # noqa: E402

from companion_server.app import create_app  # noqa: E402
from companion_server.core import Core  # noqa: E402
from companion_server.models import Role  # noqa: E402
from companion_server.registration.services import register_box  # noqa: E402
from companion_server.settings import Settings  # noqa: E402
from companion_server.web import CORE  # noqa: E402
from tests.companion import ha as sim  # noqa: E402
from tests.companion.ha import HomeAssistant  # noqa: E402
from tests.companion.helpers import (  # noqa: E402
    PortalClient,
    free_port,
    make_company,
    make_user,
    psql,
    start_postgres,
    stop_postgres,
)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def report(name: str, seconds: list[float]) -> None:
    """Print p50/p99 and friends in milliseconds."""
    ms = [v * 1000 for v in seconds]
    print(
        f"{name:<26} n={len(ms):>4}  p50={percentile(ms, 50):7.2f} ms  "
        f"p99={percentile(ms, 99):7.2f} ms  mean={statistics.fmean(ms):7.2f} ms  "
        f"max={max(ms):7.2f} ms"
    )


class Peer:
    """The Home Assistant side: answers each action, reports when its result is recorded."""

    def __init__(self, ha: HomeAssistant) -> None:
        self.ha = ha
        self.received: dict[str, float] = {}
        self.recorded: dict[str, asyncio.Future[float]] = {}
        self.result_frames: dict[str, str] = {}  # result frame id -> action id
        self.task: asyncio.Task[None] | None = None

    def expect(self, action_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.recorded[action_id] = future
        return future

    async def run(self) -> None:
        assert self.ha.ws is not None
        async for message in self.ha.ws:
            data = json.loads(message.data)
            if data["type"] == "action":
                action_id = data["payload"]["action_id"]
                self.received[action_id] = time.perf_counter()
                await self.ha.send(sim.frame("ack", {"id": data["id"]}))
                result = sim.frame(
                    "action_result",
                    {"action_id": action_id, "ok": True, "at": "2026-03-02T08:00:00+00:00"},
                )
                self.result_frames[result["id"]] = action_id
                await self.ha.send(result)
            elif data["type"] == "ack":
                action_id = self.result_frames.pop(data["payload"]["id"], "")
                future = self.recorded.pop(action_id, None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())


async def main(actions: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        settings = Settings(
            database_url=url,
            secret_key="benchmark-secret-key-0123456789abcdefghij",
            mail_worker=False,
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
        )
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        base = str(server.make_url("/")).rstrip("/")
        core: Core = server.app[CORE]
        company = await make_company(core, f"Bench {uuid.uuid4().hex[:6]}")
        email = f"bench-{uuid.uuid4().hex[:6]}@example.com"
        admin = await make_user(core, company, email, role=Role.ADMIN)
        pin = f"9{uuid.uuid4().int % 1000:03d}-1234-5678"
        reg = await register_box(core, admin.id, pin=pin, customer_email="home@example.com")
        ha = HomeAssistant(base)
        browser = PortalClient(base)
        peer_task: asyncio.Task[None] | None = None
        try:
            assert (await ha.link(reg.code, pin=pin))[0] == 200
            await ha.connect()
            await ha.hello(monitoring=True, pin=pin)
            until = core.now() + timedelta(hours=8)
            window = {"request_id": None, "state": "granted", "until": until.isoformat()}
            await ha.send(sim.frame("window", {**window, "kinds": ["reboot"]}))
            await ha.expect("ack")
            peer = Peer(ha)
            peer_task = asyncio.create_task(peer.run())
            assert (await browser.login(email)).status == 303
            path = f"/installations/{reg.installation_id}/remote/reboot"
            await browser.get(f"/installations/{reg.installation_id}")
            token = browser.csrf
            out: list[float] = []
            trip: list[float] = []
            post: list[float] = []
            for index in range(actions + 20):
                action_id = str(uuid.uuid4())
                recorded = peer.expect(action_id)
                start = time.perf_counter()
                form: dict[str, Any] = {"action_id": action_id, "csrf_token": token}
                page = await browser.request("POST", path, data=form)
                answered = time.perf_counter()
                assert page.status == 303, page.status
                done = await asyncio.wait_for(recorded, 30)
                if index >= 20:  # warm-up
                    post.append(answered - start)
                    out.append(peer.received[action_id] - start)
                    trip.append(done - start)
        finally:
            if peer_task is not None:
                peer_task.cancel()
            await browser.close()
            await ha.close()
            await server.close()
    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"Action round trip, {actions} reboot actions, {kind}, Home Assistant = protocol peer")
    report("POST answered", post)
    report("portal -> HA (action)", out)
    report("portal -> HA -> portal", trip)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--postgres", action="store_true", help="a temporary PostgreSQL")
    arguments = parser.parse_args()
    if arguments.postgres:
        postgres = start_postgres(free_port())
        try:
            psql(postgres.url, "CREATE DATABASE action_bench")
            base_url, _, _ = postgres.url.rpartition("/")
            asyncio.run(main(arguments.actions, f"{base_url}/action_bench"))
        finally:
            stop_postgres(postgres)
    else:
        asyncio.run(main(arguments.actions, arguments.database_url))
