"""A ``device_update`` that names its snapshot digests keeps the next snapshot known.

Home Assistant sends its snapshot after every ``welcome``. With a radio level changing every
few minutes, the last snapshot applied is nearly always out of date by then, and applying a
whole snapshot costs the portal twice what the rest of a reconnection does. So each update
says which snapshot it leads from and to: the portal takes the new digest only if it held
the old one, and any frame missing in between makes the next snapshot news again.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from companion_server.core import Core
from companion_server.hub import protocol
from tests.companion import ha as sim
from tests.companion.ha import Factory, new_ha
from tests.companion.test_snapshot_unchanged import (
    LIVING_ROOM,
    living_room,
    monitored,
    reconnect,
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


def update(url: str, rssi: int, step: Any = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"url": url, "changes": {"rssi": rssi}}
    if step is not None:
        payload["digest"] = step
    return sim.frame("device_update", payload)


async def test_an_update_naming_its_digests_keeps_the_next_snapshot_known(
    core: Core, new_ha: Factory
) -> None:
    client, installation_id = await monitored(core, new_ha)
    before = await stored_digest(core, installation_id)
    assert before == digest_of(sim.snapshot())
    now = snapshot_with({LIVING_ROOM: 31})
    await client.send(update(LIVING_ROOM, 31, {"from": before, "to": digest_of(now)}))
    await client.backlog()
    assert await stored_digest(core, installation_id) == digest_of(now)
    assert (await living_room(core)).rssi == 31

    await reconnect(client)
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
    assert await stored_digest(core, installation_id) is None

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
    assert await stored_digest(core, installation_id) is None

    await client.send(sim.snapshot())  # the old levels again: news, so applied
    await client.backlog()
    assert (await living_room(core)).rssi == 72


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
