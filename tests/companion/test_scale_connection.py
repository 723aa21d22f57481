"""What one Home Assistant connection costs the portal: no notice nor flush it does not need."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestServer
import pytest

from companion_server.app_keys import HUB
from companion_server.core import Core
from companion_server.monitoring.services import request_monitoring
from tests.companion.ha import Factory, new_ha
from tests.companion.test_hub import linked

__all__ = ["new_ha"]


@pytest.fixture
def published(server: TestServer, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every message the hub puts on its bus (still delivered)."""
    bus = server.app[HUB].bus
    messages: list[dict[str, Any]] = []
    original = bus.publish

    async def publish(message: dict[str, Any]) -> None:
        messages.append(message)
        await original(message)

    monkeypatch.setattr(bus, "publish", publish)
    return messages


async def test_takeover_notice_only_for_an_installation_shown_connected(
    core: Core, new_ha: Factory, published: list[dict[str, Any]]
) -> None:
    client, installation_id, _ = await linked(core, new_ha)
    await client.connect()
    await client.hello()
    # Shown offline before this hello: no other connection to close anywhere.
    assert [m for m in published if m["t"] == "takeover"] == []
    second = await new_ha()
    second.token = client.token
    await second.connect()
    await second.hello()
    assert [m["i"] for m in published if m["t"] == "takeover"] == [installation_id]


async def test_a_frame_queued_before_the_welcome_follows_it(
    core: Core, server: TestServer, new_ha: Factory
) -> None:
    client, installation_id, admin_id = await linked(core, new_ha)
    await client.connect()
    hub = server.app[HUB]
    conn = hub.connections[installation_id]
    # Queued while the connection waits for its hello: the flush notice finds it not ready.
    request_id = await request_monitoring(core, admin_id, installation_id)
    async with asyncio.timeout(10):  # on PostgreSQL the notice comes through LISTEN
        while not conn.flush_wanted:
            await asyncio.sleep(0.01)
    await client.hello()
    [pending] = await client.backlog()
    assert pending["payload"]["request_id"] == request_id
    assert not conn.flush_wanted
