"""Round trip of an installer's action: portal -> Home Assistant -> portal (p50, p99).

Run: ``python -m benchmarks.action_roundtrip [--actions 300] [--database-url URL | --postgres]``
(``--postgres``: a temporary PostgreSQL server started like the test suite's), or
``python -m benchmarks.action_roundtrip --real [--actions 100]``. Prints figures, asserts
nothing.

Two Home Assistants, said in the output:

- default, a PROTOCOL PEER (the WebSocket client of ``tests/companion/ha.py``) that links
  with the code, grants a window and answers every ``action`` at once with ``ack`` +
  ``action_result`` (no box). One round trip: the installer's
  ``POST /installations/{id}/remote/reboot`` (session, CSRF, window and kind checks, the
  action and its frame written in one transaction) -> the frame over the WebSocket -> the
  peer's ``action_result`` recorded by the portal (its ``ack``, sent after the commit,
  reaches the peer).
- ``--real``: the REAL INTEGRATION (Home Assistant's test harness, as the integration tests
  run it) against the box simulator over HTTPS, linked to the in-process portal with a code,
  monitoring approved in the repair flow, the window granted with
  ``somfy_pro.grant_remote_service``. One round trip: ``change_parameter`` (the pencil's
  service: the io shutter's name) -> the integration checks the window, the device and the
  value, runs ``setName`` on the box, appends to its audit log -> its ``action_result``
  handled by the portal.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
import json
import logging
from pathlib import Path
import sys
import tempfile
import time
from typing import Any
import uuid

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from benchmarks.figures import report  # noqa: E402
from benchmarks.ha_bench import box_in_hass, forwarded, run_in_harness  # noqa: E402
from benchmarks.serve import portal_in_process, quick_settings  # noqa: E402
from companion_server.app_keys import CORE  # noqa: E402
from companion_server.core import Core  # noqa: E402
from companion_server.models import Role  # noqa: E402
from companion_server.registration.services import register_box  # noqa: E402
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
        server = await portal_in_process(quick_settings(url))
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
    report("POST answered", post, 30)
    report("portal -> HA (action)", out, 30)
    report("portal -> HA -> portal", trip, 30)


# -- the real integration (run by pytest with Home Assistant's harness) ----------------------


async def measure_real(hass: Any, entry: Any, actions: int, tmp: Path) -> None:
    """Link the real integration to the portal, grant a window, time parameter changes."""
    from homeassistant.helpers import issue_registry as ir
    from sqlalchemy import select

    from companion_server.app_keys import HUB
    from companion_server.interventions import commands, rules
    from companion_server.models import Device, RemoteWindow
    from companion_server.monitoring.services import request_monitoring
    from companion_server.registration.services import seed_registration
    from custom_components.somfy_pro.const import DOMAIN
    from custom_components.somfy_pro.portal_monitoring import monitoring_issue_id
    from tests.integration.common import PIN as REAL_PIN, SHUTTER
    from tests.integration.portal_common import answer_monitoring_request, manager_of

    async def until(check: Any, what: str) -> None:
        for _ in range(2000):
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}")

    server = await portal_in_process(quick_settings(f"sqlite+aiosqlite:///{tmp}/real.db"))
    for name in (
        "sqlalchemy",
        "sqlalchemy.engine",
        "sqlalchemy.engine.Engine",
        "custom_components",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
    core: Core = server.app[CORE]
    recorded: dict[str, asyncio.Future[float]] = {}
    frames = server.app[HUB].frames
    original = frames.handlers["action_result"]

    async def timed(ctx: Any) -> None:
        await original(ctx)
        future = recorded.pop(ctx.frame.payload["action_id"], None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    frames.handlers["action_result"] = timed
    try:
        reg = await seed_registration(core, pin=REAL_PIN, company_name="Bench Installers")
        flow = await hass.config_entries.options.async_init(entry.entry_id)
        await hass.config_entries.options.async_configure(
            flow["flow_id"], {"url": str(server.make_url("/")).rstrip("/"), "code": reg.code}
        )
        await until(lambda: manager_of(entry).connected, "the channel")
        await request_monitoring(core, reg.actor_id, reg.installation_id)
        issue = monitoring_issue_id(entry.entry_id)
        await until(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue), "the request")
        await answer_monitoring_request(hass, entry, "approve")

        async def shutter_editable() -> int | None:
            async with core.tx() as db:
                device = await db.scalar(select(Device).where(Device.url == SHUTTER))
            if device is None or "label" not in rules.editable(device).parameters:
                return None
            return device.id

        await until(shutter_editable, "the shutter's editable parameters on the portal")
        device_id = await shutter_editable()
        assert device_id is not None
        await hass.services.async_call(
            DOMAIN,
            "grant_remote_service",
            {"config_entry_id": entry.entry_id, "hours": 8, "kinds": ["parameters"]},
            blocking=True,
        )

        async def window_open() -> bool:
            async with core.tx() as db:
                return (
                    await db.scalar(select(RemoteWindow.id).where(RemoteWindow.state == rules.OPEN))
                ) is not None

        await until(window_open, "the window on the portal")
        trip: list[float] = []
        for index in range(actions + 10):
            action_id = str(uuid.uuid4())
            future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            recorded[action_id] = future
            start = time.perf_counter()
            await commands.change_parameter(
                core,
                reg.actor_id,
                reg.installation_id,
                device_id,
                "label",
                f"Shutter {index % 7}",
                action_id=action_id,
            )
            done = await asyncio.wait_for(future, 30)
            if index >= 10:
                trip.append(done - start)
        print()
        print(
            f"Action round trip, {actions} parameter changes, SQLite, Home Assistant = the real "
            "integration (test harness) with the box simulator"
        )
        report("portal -> HA -> box -> portal", trip, 30)
    finally:
        frames.handlers["action_result"] = original
        await server.close()


@pytest.fixture(autouse=True)
def _real_quiet(enable_custom_integrations: None, socket_enabled: None) -> None:
    """``--real``: load custom_components, allow 127.0.0.1, print only the figures."""
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


@pytest.fixture
def expected_lingering_timers() -> bool:
    """The integration's HTTP session keeps a cleanup timer after the unload."""
    return True


@pytest.fixture
def verify_cleanup() -> None:
    """A benchmark leaves keep-alive timers and threads: not checked here."""


async def test_real_integration(hass: Any, tmp_path: Path, request: Any) -> None:
    """Measure with the real integration (run by ``--real``; ``test_`` for pytest)."""
    async with box_in_hass(hass, tmp_path, move_seconds=0.05) as (_box, entry):
        await measure_real(hass, entry, int(request.config.getoption("actions")), tmp_path)


def pytest_addoption(parser: Any) -> None:
    """``--actions N`` under pytest."""
    parser.addoption("--actions", default="100")


if __name__ == "__main__":
    if "--real" in sys.argv:
        sys.exit(run_in_harness(__file__, forwarded("actions"), sys.modules[__name__]))
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
