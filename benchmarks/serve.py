"""The portal as a child process of a benchmark: its settings' secret, serving, readiness."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from companion_server.app import create_app
from companion_server.settings import Settings

SECRET = "benchmark-secret-key-0123456789-abcdefghijklmnop"


def serve_portal(settings: Settings) -> None:
    """Child process: the portal on 127.0.0.1 at ``settings.port``, no access log."""
    web.run_app(
        create_app(settings),
        host="127.0.0.1",
        port=settings.port,
        access_log=None,
        print=None,
    )


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
