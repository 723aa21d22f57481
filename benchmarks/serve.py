"""The portal of a benchmark: its settings, in a child process or in this one, readiness."""

from __future__ import annotations

import asyncio
import cProfile
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from companion_server import collector
from companion_server.app import create_app
from companion_server.cli import LISTEN_BACKLOG
from companion_server.settings import Settings

SECRET = "benchmark-secret-key-0123456789-abcdefghijklmnop"


def quick_settings(database_url: str, **overrides: Any) -> Settings:
    """Cheap password hashing, no mail worker: for what measures anything but logging in."""
    base: dict[str, Any] = {
        "secret_key": SECRET,
        "mail_worker": False,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
    }
    return Settings(database_url=database_url, **(base | overrides))


async def portal_in_process(settings: Settings) -> TestServer:
    """The portal on 127.0.0.1 (a free port) in this process, started; close it after."""
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    return server


def serve_bare(port: int) -> None:
    """Child process: the smallest aiohttp application: what any page costs at least."""

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def serve_portal(settings: Settings, profile: str | None = None) -> None:
    """Child process: the portal on 127.0.0.1 at ``settings.port``, no access log.

    As ``python -m companion_server serve`` runs it: the same listen queue, so reconnection
    storms meet the same limits, and the garbage collector settled once started (without
    it, a list page cost a tenth more and a full collection stalled every request in flight
    for a tenth of a second); with ``profile``, the process's cProfile statistics go to
    that file.
    """
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    app = create_app(settings)
    app.on_startup.append(_settle)
    web.run_app(
        app,
        host="127.0.0.1",
        port=settings.port,
        access_log=None,
        print=None,
        backlog=LISTEN_BACKLOG,
    )
    if profiler is not None and profile:
        profiler.disable()
        profiler.dump_stats(profile)


async def _settle(_app: web.Application) -> None:
    collector.settle()


async def wait_ready(url: str, seconds: float = 60) -> None:
    """Wait until a server answers ``url``."""
    async with aiohttp.ClientSession() as session:
        for _ in range(int(seconds * 10)):
            try:
                async with session.get(url) as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")
