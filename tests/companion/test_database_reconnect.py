"""PostgreSQL closing the portal's connections (a restart, killed backends): served at once.

The pool does not ping a connection before each transaction (three round trips each); a
connection whose socket the server closed is swapped for a new one as it leaves the pool.
"""

from __future__ import annotations

import asyncio
import subprocess
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient, TestServer
import pytest

from companion_server.app import create_app
from tests.companion.conftest import fast_settings
from tests.companion.helpers import psql

# Requests at once: the pool holds several connections when they are killed.
PARALLEL = 6


def _backends(admin_url: str, name: str) -> int:
    parts = urlsplit(admin_url.replace("+asyncpg", ""))
    result = subprocess.run(
        ["psql", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port), "-U",
         parts.username or "postgres", "-d", "postgres", "-tAc",
         f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}'"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return int(result.stdout.strip())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_connections_the_server_closed_are_replaced(
    database_url: str, postgres_admin_url: str
) -> None:
    name = database_url.rsplit("/", 1)[1]
    app = create_app(fast_settings(database_url))
    async with TestClient(TestServer(app)) as client:
        answers = await asyncio.gather(*(client.get("/healthz") for _ in range(PARALLEL)))
        assert {a.status for a in answers} == {200}
        assert _backends(postgres_admin_url, name) > 1

        psql(
            postgres_admin_url,
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )
        while _backends(postgres_admin_url, name):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.05)  # the portal's loop reads the sockets' end

        for _ in range(2):
            answers = await asyncio.gather(*(client.get("/healthz") for _ in range(PARALLEL)))
            assert [a.status for a in answers] == [200] * PARALLEL
