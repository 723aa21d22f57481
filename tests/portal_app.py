"""The real portal app in the test's own event loop, on 127.0.0.1, restartable in place.

Used by the Home Assistant tests that need the portal itself (``tests/integration`` and the
browser tests of ``tests/e2e/ha``): same port and database across a restart, like a portal
process killed and started again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import socket
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from companion_server.app import create_app
from companion_server.app_keys import CORE, HUB
from companion_server.core import Clock, Core
from companion_server.models import InstallationState
from companion_server.settings import Settings


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Portal:
    """The portal app on 127.0.0.1; ``settings`` override the test defaults (no mail)."""

    path: Path
    settings: dict[str, Any] = field(default_factory=dict)
    # None: the real clock; a test's clock to move the portal's time (a call-back wait).
    clock: Clock | None = None
    runner: web.AppRunner | None = None
    port: int = field(default_factory=free_port)

    @property
    def core(self) -> Core:
        assert self.runner is not None
        core: Core = self.runner.app[CORE]
        return core

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        settings = Settings(
            **{
                "database_url": f"sqlite+aiosqlite:///{self.path}",
                "secret_key": "x" * 40,
                "public_url": self.url,
                "mail_worker": False,
                "argon2_time_cost": 1,
                "argon2_memory_kib": 8,
                "argon2_parallelism": 1,
                **self.settings,
            }
        )
        # Served as ``python -m companion_server serve`` serves it (aiohttp's test server would
        # cancel a handler whose browser went away: not what the portal meets in production),
        # with a short shutdown: stopping the portal closes its sockets at once, like a kill.
        self.runner = web.AppRunner(create_app(settings, clock=self.clock), shutdown_timeout=0.2)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            # Close the channels first, as the portal's shutdown does, without waiting for
            # aiohttp's grace period on open WebSockets.
            await self.runner.app[HUB].stop()
            await self.runner.cleanup()
            self.runner = None

    async def count(self, model: Any, *where: Any) -> int:
        async with self.core.tx() as db:
            return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def state(self, installation_id: int) -> InstallationState:
        async with self.core.tx() as db:
            state = await db.get(InstallationState, installation_id)
            assert state is not None
            return state
