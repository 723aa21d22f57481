"""A ``device_update`` that names its snapshot digests keeps the next snapshot known.

Home Assistant sends its snapshot after every ``welcome``. With a radio level changing every
few minutes, the last snapshot applied is nearly always out of date by then, and applying a
whole snapshot costs the portal twice what the rest of a reconnection does. So each update
says which snapshot it leads from and to: the connection takes the new digest only if it
held the old one, and any frame missing in between makes the next snapshot news again.
While updates stream, the connection's mark stands in the stored digest's place (one write,
not one a frame); the digest is stored when the connection ends, if the mark still stands.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import Update, update as sql_update

from companion_server.core import Core
from companion_server.hub import protocol
from companion_server.models import InstallationState
from tests.companion import ha as sim
from tests.companion.ha import Factory, HomeAssistant, new_ha
from tests.companion.test_snapshot_unchanged import (
    LIVING_ROOM,
    living_room,
    monitored,
    statements,
    stored_digest,
)

__all__ = ["new_ha"]

DOOR = "io://1234-5678-9012/2"


def snapshot_with(levels: dict[str, int]) -> dict[str, Any]:
    """The test box's snapshot with these radio levels (by device URL)."""
    frame = sim.snapshot()
    for device in frame["payload"]["devices"]:
        device["rssi"] = levels.get(device["url"], device["rssi"])
    return frame


def digest_of(frame: dict[str, Any]) -> str:
    """The digest as the portal computes it, on the payload as it arrives."""
    return protocol.snapshot_digest(json.loads(json.dumps(frame["payload"])))


def update_state(installation_id: int) -> Update:
    return sql_update(InstallationState).where(InstallationState.installation_id == installation_id)


def update(url: str, rssi: int, step: Any = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"url": url, "changes": {"rssi": rssi}}
    if step is not None:
        payload["digest"] = step
    return sim.frame("device_update", payload)


async def marked(core: Core, installation_id: int) -> bool:
    """A connection's mark stands in the stored digest's place."""
    return (await stored_digest(core, installation_id) or "").startswith("pending:")


async def ended(core: Core, client: HomeAssistant, installation_id: int) -> str | None:
    """The stored digest once the connection's end is recorded (its mark gone)."""
    await client.ws.close()  # type: ignore[union-attr]
    for _ in range(200):
        if not await marked(core, installation_id):
            break
        await asyncio.sleep(0.01)
    return await stored_digest(core, installation_id)


async def test_an_update_naming_its_digests_keeps_the_next_snapshot_known(
    core: Core, new_ha: Factory
) -> None:
    client, installation_id = await monitored(core, new_ha)
    before = await stored_digest(core, installation_id)
    assert before == digest_of(sim.snapshot())
    now = snapshot_with({LIVING_ROOM: 31})
    await client.send(update(LIVING_ROOM, 31, {"from": before, "to": digest_of(now)}))
    await client.backlog()
    assert await marked(core, installation_id)  # the old digest no longer holds
    assert (await living_room(core)).rssi == 31
    # The same snapshot on the same connection is skipped already.
    with statements(core) as seen:
        await client.send(now)
        await client.backlog()
    assert seen == []

    assert await ended(core, client, installation_id) == digest_of(now)
    await client.connect()
    await client.hello(monitoring=True)
    await client.backlog()
    with statements(core) as seen:
        await client.send(now)
        await client.backlog()
    assert seen == []  # neither read nor written: the portal holds it already


async def test_updates_chain_through_the_handlers_too(core: Core, new_ha: Factory) -> None:
    client, installation_id = await monitored(core, new_ha)
    assert core.hub is not None
    await core.hub.telemetry.stop()  # every update through its frame's handler
    first = snapshot_with({LIVING_ROOM: 31})
    second = snapshot_with({LIVING_ROOM: 31, DOOR: 50})
    await client.send(
        update(LIVING_ROOM, 31, {"from": digest_of(sim.snapshot()), "to": digest_of(first)})
    )
    await client.send(update(DOOR, 50, {"from": digest_of(first), "to": digest_of(second)}))
    await client.backlog()
    assert await stored_digest(core, installation_id) == digest_of(second)


async def test_a_lost_update_breaks_the_chain(core: Core, new_ha: Factory) -> None:
    client, installation_id = await monitored(core, new_ha)
    first = snapshot_with({LIVING_ROOM: 31})  # its update never reaches the portal
    second = snapshot_with({LIVING_ROOM: 31, DOOR: 50})
    await client.send(update(DOOR, 50, {"from": digest_of(first), "to": digest_of(second)}))
    await client.backlog()
    assert await marked(core, installation_id)

    await client.send(second)
    await client.backlog()
    assert (await living_room(core)).rssi == 31  # applied: the lost change is made good
    assert await stored_digest(core, installation_id) == digest_of(second)


@pytest.mark.parametrize(
    "step",
    [
        None,  # an older Home Assistant: no digests
        {"from": "0" * 64, "to": "1" * 64},  # from a snapshot the portal does not hold
        {"from": "A" * 64, "to": "B" * 64},  # upper case: not a digest the portal writes
        {"from": "0" * 64},
        {"from": 1, "to": 2},
        "0" * 64,
        [],
    ],
)
async def test_an_update_without_a_valid_chain_is_applied_and_forgets_the_digest(
    core: Core, new_ha: Factory, step: Any
) -> None:
    client, installation_id = await monitored(core, new_ha)
    await client.send(update(LIVING_ROOM, 31, step))
    await client.backlog()
    assert (await living_room(core)).rssi == 31
    assert await ended(core, client, installation_id) is None  # nothing known to store

    await client.connect()
    await client.hello(monitoring=True)
    await client.backlog()
    await client.send(sim.snapshot())  # the old levels again: news, so applied
    await client.backlog()
    assert (await living_room(core)).rssi == 72


async def test_a_mark_left_by_a_crash_or_replaced_by_another_connection_stores_nothing(
    core: Core, new_ha: Factory
) -> None:
    client, installation_id = await monitored(core, new_ha)
    now = snapshot_with({LIVING_ROOM: 31})
    step = {"from": digest_of(sim.snapshot()), "to": digest_of(now)}
    await client.send(update(LIVING_ROOM, 31, step))
    await client.backlog()
    # Another connection's update (an instance that died without storing its digest, or
    # Home Assistant already back on another instance) replaced this one's mark.
    async with core.tx() as db:
        await db.execute(
            update_state(installation_id).values(snapshot_digest="pending:" + "0" * 32)
        )
    assert await ended(core, client, installation_id) == "pending:" + "0" * 32

    await client.connect()
    await client.hello(monitoring=True)
    await client.backlog()
    with statements(core) as seen:
        await client.send(now)  # a mark is never a digest: the snapshot is applied
        await client.backlog()
    assert seen
    assert await stored_digest(core, installation_id) == digest_of(now)


async def test_the_welcome_names_the_snapshot_the_portal_holds(core: Core, new_ha: Factory) -> None:
    client, installation_id = await monitored(core, new_ha)
    now = snapshot_with({LIVING_ROOM: 31})
    await client.send(
        update(LIVING_ROOM, 31, {"from": digest_of(sim.snapshot()), "to": digest_of(now)})
    )
    await client.backlog()
    assert await ended(core, client, installation_id) == digest_of(now)

    await client.connect()
    welcome = await client.hello(monitoring=True)
    assert welcome["payload"]["snapshot_digest"] == digest_of(now)
    # Home Assistant holds the same and sends no snapshot: its changes chain on from there.
    later = snapshot_with({LIVING_ROOM: 31, DOOR: 50})
    await client.send(update(DOOR, 50, {"from": digest_of(now), "to": digest_of(later)}))
    await client.backlog()
    assert await ended(core, client, installation_id) == digest_of(later)

    # Nothing to name: a connection's mark stands (its digest unknown), nothing is stored,
    # or monitoring is not granted (Home Assistant sends no box data then).
    for values in (
        {"snapshot_digest": "pending:" + "0" * 32},
        {"snapshot_digest": None},
        {"snapshot_digest": digest_of(later), "monitoring": "revoked"},
    ):
        async with core.tx() as db:
            await db.execute(update_state(installation_id).values(**values))
        await client.connect()
        welcome = await client.hello(monitoring=values.get("monitoring") is None)
        assert "snapshot_digest" not in welcome["payload"], values
        await client.ws.close()  # type: ignore[union-attr]


def test_next_digest_holds_only_from_the_digest_known() -> None:
    step = {"from": "a" * 64, "to": "b" * 64}
    assert protocol.next_digest("a" * 64, {"digest": step}) == "b" * 64
    assert protocol.next_digest("c" * 64, {"digest": step}) is None
    assert protocol.next_digest(None, {"digest": step}) is None
    assert protocol.next_digest("a" * 64, {"digest": None}) is None
    assert protocol.next_digest("a" * 64, {}) is None


def test_the_digest_step_is_validated_without_refusing_the_change() -> None:
    good = {"from": "a" * 64, "to": "b" * 64}
    frame = protocol.parse_frame(json.dumps(update(LIVING_ROOM, 31, good)))
    assert frame.payload["digest"] == good
    odd = {"from": "a" * 64, "to": "b" * 63}
    frame = protocol.parse_frame(json.dumps(update(LIVING_ROOM, 31, odd)))
    assert frame.payload["digest"] is None
    assert frame.payload["changes"] == {"rssi": 31}


async def test_a_portal_that_stops_stores_what_each_connection_holds(
    core: Core, new_ha: Factory
) -> None:
    client, installation_id = await monitored(core, new_ha)
    now = snapshot_with({DOOR: 12})
    await client.send(update(DOOR, 12, {"from": digest_of(sim.snapshot()), "to": digest_of(now)}))
    await client.backlog()
    assert await marked(core, installation_id)
    assert core.hub is not None
    await core.hub.release()  # what a stopping portal does first, every connection at once
    assert await stored_digest(core, installation_id) == digest_of(now)
