"""A rolling restart behind nginx: each instance in turn stops (SIGTERM) and starts again.

Home Assistant streams alerts the whole time, each sent again after a reconnection until
acknowledged, as the integration does: none is lost and none is stored twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
import signal
import ssl
import time
from typing import Any

import aiohttp
from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.models import Alert
from tests.companion import ha as sim
from tests.companion.ha import HomeAssistant, registered
from tests.companion.helpers import free_port
from tests.companion.test_scale_nginx import (
    core,
    database_url,
    make_certificate,
    nginx_config,
    start_instance,
    start_nginx,
    wait_http,
)

__all__ = ["core", "database_url"]  # the fixtures, shared with the nginx test


class Gone(Exception):
    """The connection ended before the acknowledgement."""


async def acknowledged(ha: HomeAssistant, frame: dict[str, Any]) -> None:
    """Send ``frame`` and wait for its ``ack`` (Gone when the socket closes first)."""
    assert ha.ws is not None
    try:
        await ha.ws.send_str(json.dumps(frame))
        while True:
            message = await ha.ws.receive(timeout=15)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise Gone
            data = json.loads(message.data)
            if data["type"] == "ack" and data["payload"]["id"] == frame["id"]:
                return
    except (ConnectionError, aiohttp.ClientError) as err:
        raise Gone from err


async def reconnect(ha: HomeAssistant) -> None:
    """Through nginx until an instance welcomes Home Assistant."""
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(Exception):
            if ha.ws is not None:
                await ha.ws.close()
        try:
            await ha.connect()
            await ha.hello(monitoring=True)
            return
        except (ConnectionError, aiohttp.ClientError, AssertionError, TimeoutError):
            assert time.monotonic() < deadline, "no instance took Home Assistant back"
            await asyncio.sleep(0.2)


async def stream(
    ha: HomeAssistant, stop: asyncio.Event, delivered: list[str], gone: list[str]
) -> None:
    """Alerts one after the other until ``stop``; each until acknowledged.

    ``gone``: the alerts whose connection ended before their acknowledgement.
    """
    n = 0
    while not stop.is_set():
        n += 1
        frame = sim.alert(f"rolling-{n}")
        while True:
            try:
                await acknowledged(ha, frame)
                break
            except Gone:
                gone.append(frame["payload"]["alert_id"])
                await reconnect(ha)
        delivered.append(frame["payload"]["alert_id"])


async def test_rolling_restart_drops_no_frame(
    core: Core, database_url: str, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    proxy_port = free_port()
    public = f"https://127.0.0.1:{proxy_port}"
    instances = [start_instance(database_url, public) for _ in range(2)]
    config = nginx_config(tmp_path, proxy_port, [i.port for i in instances], cert, key)
    nginx = start_nginx(tmp_path, config)
    session = aiohttp.ClientSession()
    ha = HomeAssistant(public)
    await ha.session.close()
    context = ssl.create_default_context(cafile=str(cert))
    ha.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
    stop = asyncio.Event()
    delivered: list[str] = []
    gone: list[str] = []
    try:
        for instance in instances:
            await wait_http(session, instance.url + "/healthz")
        await wait_http(ha.session, public + "/healthz")
        reg, _ = await registered(core)
        assert (await ha.link(reg.code))[0] == 200
        await reconnect(ha)
        sender = asyncio.create_task(stream(ha, stop, delivered, gone))
        for index, old in enumerate(list(instances)):
            before = len(delivered)
            old.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(old.process.wait, 30)
            instances[index] = start_instance(database_url, public, old.port)
            await wait_http(session, instances[index].url + "/healthz")
            while len(delivered) < before + 3:  # alerts go on through the restarted set
                assert not sender.done(), sender
                await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(sender, 60)
        async with core.tx() as db:
            stored = list(await db.scalars(select(Alert.alert_id).order_by(Alert.id)))
            total = await db.scalar(select(func.count()).select_from(Alert))
        assert gone  # the instance Home Assistant was on went away mid-stream
        assert stored == delivered
        assert total == len(delivered)
    finally:
        stop.set()
        await ha.close()
        await session.close()
        nginx.send_signal(signal.SIGQUIT)
        for process in [nginx, *(i.process for i in instances)]:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=30)
