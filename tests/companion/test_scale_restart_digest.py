"""A portal restart after radio levels changed: the snapshots that follow it are skipped.

The instance that stops (SIGTERM) stores the digest each of its connections' updates led to;
the next instance's welcome names it, and a Home Assistant that sends its snapshot anyway
(an older one) sends just that: the new instance neither validates nor writes it, and counts
it in ``/metrics``.
"""

from __future__ import annotations

import asyncio
import signal

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from companion_server.core import Core
from companion_server.monitoring.services import request_monitoring
from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant, registered
from tests.companion.helpers import free_port
from tests.companion.test_scale_nginx import core, database_url, start_instance, wait_http
from tests.companion.test_snapshot_digest_chain import (
    LIVING_ROOM,
    digest_of,
    snapshot_with,
    update,
)
from tests.companion.test_snapshot_unchanged import stored_digest

__all__ = ["core", "database_url"]  # the fixtures, shared with the nginx test


async def unchanged_snapshots(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(url + "/metrics") as response:
        text = await response.text()
    return next(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "somfy_pro_snapshots_unchanged_total"
    )


async def test_a_restart_after_updates_leaves_the_snapshots_known(
    core: Core, database_url: str
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    instance = start_instance(database_url, public, port)
    session = aiohttp.ClientSession()
    ha = HomeAssistant(public)
    try:
        await wait_http(session, instance.url + "/healthz")
        reg, admin_id = await registered(core)
        assert (await ha.link(reg.code))[0] == 200
        # Queued from this process, which tells no instance: the welcome brings it.
        request_id = await request_monitoring(core, admin_id, reg.installation_id)
        await ha.connect()
        await ha.hello()
        await ha.expect("request_monitoring")
        await ha.send(sim.consent("granted", request_id))
        await ha.expect("ack")
        await ha.send(sim.snapshot())
        now = snapshot_with({LIVING_ROOM: 31})
        step = {"from": digest_of(sim.snapshot()), "to": digest_of(now)}
        await ha.send(update(LIVING_ROOM, 31, step))
        await ha.backlog()
        assert await unchanged_snapshots(session, instance.url) == 0

        instance.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(instance.process.wait, 30)
        assert await stored_digest(core, reg.installation_id) == digest_of(now)

        instance = start_instance(database_url, public, port)
        await wait_http(session, instance.url + "/healthz")
        await ha.connect()
        welcome = await ha.hello(monitoring=True)
        # Today's Home Assistant, holding the same, sends nothing; an older one sends it.
        assert welcome["payload"]["snapshot_digest"] == digest_of(now)
        await ha.send(now)
        await ha.backlog()
        assert await unchanged_snapshots(session, instance.url) == 1
    finally:
        await ha.close()
        await session.close()
        if instance.process.poll() is None:
            instance.process.terminate()
        instance.process.wait(timeout=30)
