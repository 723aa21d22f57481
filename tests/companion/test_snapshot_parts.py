"""A snapshot in parts: each part is taken in, and only a whole snapshot removes devices."""

from __future__ import annotations

from typing import Any
import uuid

from sqlalchemy import select

from companion_server.core import Core
from companion_server.models import Device
from tests.companion import ha as sim
from tests.companion.ha import Factory, HomeAssistant, asked_for_monitoring, new_ha

__all__ = ["new_ha"]  # the fixture, shared with the other channel tests

URL = "io://1234-5678-9012/{}"


def device(number: int) -> dict[str, Any]:
    return {"url": URL.format(number), "label": f"Shutter {number}", "online": True}


def part(snapshot_id: str, index: int, parts: int, numbers: list[int]) -> dict[str, Any]:
    frame = sim.snapshot([device(n) for n in numbers])
    frame["payload"] |= {"snapshot_id": snapshot_id, "part": index, "parts": parts}
    return frame


async def urls(core: Core) -> set[str]:
    async with core.tx() as db:
        return set(await db.scalars(select(Device.url)))


async def applied(client: HomeAssistant) -> None:
    """Every frame sent so far is applied (the portal answers the probe after them)."""
    await client.backlog()


async def test_only_a_whole_snapshot_removes_devices(core: Core, new_ha: Factory) -> None:
    client, _, request_id = await asked_for_monitoring(core, new_ha)
    await client.send(sim.consent("granted", request_id))
    await client.expect("ack")
    # A snapshot in one frame, as before parts: complete by itself.
    await client.send(sim.snapshot([device(n) for n in (1, 2, 3, 4)]))
    await applied(client)
    assert await urls(core) == {URL.format(n) for n in (1, 2, 3, 4)}

    # Part 1 of 3 arrives (with a new product), then the connection drops.
    await client.send(part(str(uuid.uuid4()), 0, 3, [5]))
    await applied(client)
    await client.ws.close()  # type: ignore[union-attr]
    await client.connect()
    await client.hello(monitoring=True)
    await applied(client)
    assert await urls(core) == {URL.format(n) for n in (1, 2, 3, 4, 5)}

    # Two parts of three, the middle one missing: still nothing removed.
    gappy = str(uuid.uuid4())
    await client.send(part(gappy, 0, 3, [1]))
    await client.send(part(gappy, 2, 3, [5]))
    await applied(client)
    assert len(await urls(core)) == 5
    # Parts of another snapshot do not complete it either.
    await client.send(part(str(uuid.uuid4()), 1, 3, [2]))
    await applied(client)
    assert len(await urls(core)) == 5

    # A whole snapshot, its parts in any order: product 3 is gone from the box.
    whole = str(uuid.uuid4())
    await client.send(part(whole, 1, 2, [4, 5]))
    await applied(client)
    assert len(await urls(core)) == 5
    await client.send(part(whole, 0, 2, [1, 2]))
    await applied(client)
    assert await urls(core) == {URL.format(n) for n in (1, 2, 4, 5)}
