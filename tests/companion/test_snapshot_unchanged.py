"""A snapshot saying what the portal applied last is neither read nor written again.

Every Home Assistant sends its snapshot after each ``welcome``: after a portal restart, all of
them at once, and nearly all unchanged. The digest of the last snapshot applied whole is kept
with the installation; a device changing in between makes the next snapshot news again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
import uuid

from sqlalchemy import event, select, update

from companion_server.core import Core
from companion_server.hub import protocol
from companion_server.models import Device, InstallationState, RadioSample
from companion_server.registration.linking import unlink_installation
from tests.companion import ha as sim
from tests.companion.ha import Factory, HomeAssistant, asked_for_monitoring, new_ha

__all__ = ["new_ha"]

LIVING_ROOM = "io://1234-5678-9012/1"


async def monitored(core: Core, new_ha: Factory) -> tuple[HomeAssistant, int]:
    """A linked Home Assistant with monitoring granted, its first snapshot applied."""
    client, installation_id, request_id = await asked_for_monitoring(core, new_ha)
    await client.send(sim.consent("granted", request_id))
    await client.expect("ack")
    await client.send(sim.snapshot())
    await client.backlog()
    return client, installation_id


async def reconnect(client: HomeAssistant) -> None:
    """Home Assistant comes back, as after a portal restart."""
    await client.ws.close()  # type: ignore[union-attr]
    await client.connect()
    await client.hello(monitoring=True)
    await client.backlog()  # what the welcome sends after it, sent


async def living_room(core: Core) -> Device:
    async with core.tx() as db:
        device = await db.scalar(select(Device).where(Device.url == LIVING_ROOM))
        assert device is not None
        return device


async def stored_digest(core: Core, installation_id: int) -> str | None:
    async with core.tx() as db:
        return await db.scalar(
            select(InstallationState.snapshot_digest).where(
                InstallationState.installation_id == installation_id
            )
        )


@contextmanager
def statements(core: Core) -> Iterator[list[str]]:
    """The SQL statements the portal runs meanwhile."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    engine = core.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_the_same_snapshot_after_a_reconnection_is_not_read_nor_written(
    core: Core, new_ha: Factory
) -> None:
    client, installation_id = await monitored(core, new_ha)
    assert await stored_digest(core, installation_id) is not None
    before = await living_room(core)
    await reconnect(client)

    with statements(core) as seen:
        await client.send(sim.snapshot())  # a new frame id, the same box and devices
        await client.backlog()
    # The probe that waits for it is an ``ack`` without id: refused before any statement.
    assert seen == []
    after = await living_room(core)
    assert (after.updated_at, after.rssi) == (before.updated_at, before.rssi)


async def test_a_changed_device_makes_the_same_snapshot_news_again(
    core: Core, new_ha: Factory
) -> None:
    client, installation_id = await monitored(core, new_ha)
    await client.send(sim.frame("device_update", {"url": LIVING_ROOM, "changes": {"rssi": 31}}))
    await client.backlog()
    assert (await living_room(core)).rssi == 31
    # No digest stored any more: the connection's mark stands in its place.
    assert (await stored_digest(core, installation_id) or "").startswith("pending:")

    # The box says 72 again: on the same connection...
    await client.send(sim.snapshot())
    await client.backlog()
    assert (await living_room(core)).rssi == 72
    # ... and after a reconnection, from the stored digest.
    await client.send(sim.frame("device_update", {"url": LIVING_ROOM, "changes": {"rssi": 30}}))
    await client.backlog()
    await reconnect(client)
    await client.send(sim.snapshot())
    await client.backlog()
    assert (await living_room(core)).rssi == 72


async def test_a_different_snapshot_is_applied_and_becomes_the_known_one(
    core: Core, new_ha: Factory
) -> None:
    client, installation_id = await monitored(core, new_ha)
    first = await stored_digest(core, installation_id)
    await client.send(sim.snapshot(online=False))
    await client.backlog()
    second = await stored_digest(core, installation_id)
    assert second not in (None, first)
    async with core.tx() as db:
        state = await db.get(InstallationState, installation_id)
        assert state is not None and state.box_online is False
        samples = len(list(await db.scalars(select(RadioSample))))

    # A portal that lost the box's state meanwhile is not put right by a skipped snapshot,
    # so nothing but Home Assistant's own frames may change it: here the test does.
    async with core.tx() as db:
        await db.execute(update(InstallationState).values(box_online=True))
    await reconnect(client)
    await client.send(sim.snapshot(online=False))
    await client.backlog()
    async with core.tx() as db:
        state = await db.get(InstallationState, installation_id)
        assert state is not None and state.box_online is True  # skipped: same as last
        assert len(list(await db.scalars(select(RadioSample)))) == samples


async def test_a_snapshot_in_parts_leaves_no_digest(core: Core, new_ha: Factory) -> None:
    client, installation_id = await monitored(core, new_ha)
    whole = str(uuid.uuid4())
    for index in range(2):
        part = sim.snapshot()
        part["payload"] |= {"snapshot_id": whole, "part": index, "parts": 2}
        await client.send(part)
    await client.backlog()
    assert await stored_digest(core, installation_id) is None


async def test_unlinking_forgets_the_digest_with_the_devices(core: Core, new_ha: Factory) -> None:
    client, installation_id = await monitored(core, new_ha)
    await unlink_installation(core, installation_id, by="home_assistant")
    assert await stored_digest(core, installation_id) is None
    await client.close()


async def test_without_monitoring_a_known_snapshot_is_still_refused(
    core: Core, new_ha: Factory
) -> None:
    client, _ = await monitored(core, new_ha)
    await client.send(sim.consent("revoked"))
    await client.expect("ack")
    sent = sim.snapshot()
    await client.send(sent)
    error = await client.expect("error")
    assert error["payload"]["code"] == "monitoring_not_granted"
    assert error["payload"]["ref"] == sent["id"]


def test_the_digest_ignores_the_snapshot_id_but_not_the_parts() -> None:
    payload = sim.snapshot()["payload"]
    digest = protocol.snapshot_digest(payload)
    assert protocol.snapshot_digest(payload | {"snapshot_id": str(uuid.uuid4())}) == digest
    assert protocol.snapshot_digest(payload | {"part": 0, "parts": 1}) != digest
    # Key order is not what a snapshot says.
    assert protocol.snapshot_digest(dict(reversed(payload.items()))) == digest


def test_a_known_snapshot_comes_back_unchanged_and_another_is_validated() -> None:
    frame = sim.snapshot()
    digest = protocol.snapshot_digest(frame["payload"])
    text = protocol.json.dumps(frame)
    known = protocol.parse_frame(text, known_snapshot=digest)
    assert (known.unchanged, known.digest) == (True, digest)
    fresh = protocol.parse_frame(text)
    assert (fresh.unchanged, fresh.digest) == (False, digest)
    other = sim.snapshot(online=False)
    parsed = protocol.parse_frame(protocol.json.dumps(other), known_snapshot=digest)
    assert not parsed.unchanged
    # A known digest never lets an invalid frame through: the envelope is checked first.
    bad = dict(frame, v=2)
    try:
        protocol.parse_frame(protocol.json.dumps(bad), known_snapshot=digest)
    except protocol.FrameError as err:
        assert err.code == "unsupported_version"
    else:
        raise AssertionError("an unsupported version was accepted")
