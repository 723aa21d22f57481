"""A frame the database is too busy for is handled once more before ``internal_error``.

Another connection holds a write lock on the portal's real database (SQLite's write lock,
PostgreSQL table locks), past the portal's busy bound. Released during the pause before the
second try, the frame goes through as if nothing happened; held past that try, the answer
is ``internal_error`` and nothing is changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import logging
from pathlib import Path
import sqlite3
from typing import Any
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from companion_server.core import Core
from companion_server.db import create_engine
from companion_server.models import Device, InstallationState, ReceivedFrame
from companion_server.settings import Settings
from tests.companion import ha as sim
from tests.companion.conftest import fast_settings
from tests.companion.ha import Factory, asked_for_monitoring, new_ha

__all__ = ["new_ha"]

URL = "io://1234-5678-9012/{}"
# What the frames below write to: locked together on PostgreSQL.
TABLES = "installation_states, devices, received_frames"
# The second try starts after one busy bound (0.5 s here); this only bounds a hang.
RETRY_WAIT = 10.0


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A short busy bound: a try on a held lock gives up quickly."""
    return fast_settings(
        database_url, database_busy_seconds=0.5, documents_dir=str(tmp_path / "documents")
    )


class WriteLock:
    """Another connection's write lock on the portal's database, held until released."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.sqlite: sqlite3.Connection | None = None
        self.postgresql: AsyncConnection | None = None
        self.held = False

    async def take(self) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite = sqlite3.connect(self.url.split(":///", 1)[1], isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")
        else:
            engine = create_engine(self.url)
            self.postgresql = await engine.connect()
            await self.postgresql.execute(text(f"LOCK TABLE {TABLES} IN EXCLUSIVE MODE"))
        self.held = True

    async def release(self) -> None:
        if self.sqlite is not None:
            self.sqlite.execute("ROLLBACK")
            self.sqlite.close()
            self.sqlite = None
        if self.postgresql is not None:
            await self.postgresql.rollback()
            await self.postgresql.close()
            await self.postgresql.engine.dispose()
            self.postgresql = None
        self.held = False


@pytest.fixture
async def lock(database_url: str) -> AsyncIterator[WriteLock]:
    held = WriteLock(database_url)
    try:
        yield held
    finally:
        await held.release()


class Retries(logging.Handler):
    """Counts the portal's second tries; ``started`` is set as the pause before one begins."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0
        self.started = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "tried again" in record.getMessage():
            self.count += 1
            self.started.set()


@pytest.fixture
def retries() -> Iterator[Retries]:
    handler = Retries()
    logger = logging.getLogger("companion_server.hub.api")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def release_in_the_pause(lock: WriteLock, retries: Retries) -> None:
    """Release the lock as soon as the portal pauses before its second try."""
    async with asyncio.timeout(RETRY_WAIT):
        await retries.started.wait()
    await lock.release()


async def monitoring_of(core: Core, installation_id: int) -> str | None:
    async with core.tx() as db:
        state = await db.get(InstallationState, installation_id)
        return None if state is None else state.monitoring


async def received(core: Core, installation_id: int, frame_id: str) -> bool:
    async with core.tx() as db:
        return await db.get(ReceivedFrame, (installation_id, frame_id)) is not None


async def test_a_lock_released_in_the_pause_costs_the_frame_nothing(
    core: Core, new_ha: Factory, lock: WriteLock, retries: Retries
) -> None:
    client, installation_id, request_id = await asked_for_monitoring(core, new_ha)
    consent = sim.consent("granted", request_id)
    await lock.take()
    await client.send(consent)
    await release_in_the_pause(lock, retries)
    answer = await client.receive()
    # Acknowledged: the first try failed on the lock, the second went through.
    assert (answer["type"], answer["payload"]) == ("ack", {"id": consent["id"]})
    assert retries.count == 1
    assert await monitoring_of(core, installation_id) == "granted"
    assert await received(core, installation_id, consent["id"])


async def test_a_lock_held_past_the_second_try_answers_internal_error(
    core: Core, new_ha: Factory, lock: WriteLock, retries: Retries
) -> None:
    client, installation_id, request_id = await asked_for_monitoring(core, new_ha)
    before = await monitoring_of(core, installation_id)
    consent = sim.consent("granted", request_id)
    await lock.take()
    await client.send(consent)
    answer = await client.receive()
    assert lock.held  # answered while the other connection still held its lock
    await lock.release()
    assert answer["type"] == "error"
    assert answer["payload"]["code"] == "internal_error"
    assert answer["payload"]["ref"] == consent["id"]
    assert retries.count == 1  # tried twice in all, not more
    # Nothing changed: not granted, not recorded as received (its resend is handled).
    assert await monitoring_of(core, installation_id) == before != "granted"
    assert not await received(core, installation_id, consent["id"])
    # The connection goes on: the same frame sent again is taken.
    await client.send(consent)
    assert (await client.expect("ack"))["payload"] == {"id": consent["id"]}
    assert await monitoring_of(core, installation_id) == "granted"


def part(snapshot_id: str, index: int, parts: int, numbers: list[int]) -> dict[str, Any]:
    frame = sim.snapshot([{"url": URL.format(n), "label": f"Shutter {n}"} for n in numbers])
    frame["payload"] |= {"snapshot_id": snapshot_id, "part": index, "parts": parts}
    return frame


async def urls(core: Core) -> set[str]:
    async with core.tx() as db:
        return set(await db.scalars(select(Device.url)))


async def test_the_last_part_of_a_snapshot_tried_again_completes_it(
    core: Core, new_ha: Factory, lock: WriteLock, retries: Retries
) -> None:
    """The failed try counted the part in and ended the snapshot: the second must too."""
    client, _, request_id = await asked_for_monitoring(core, new_ha)
    await client.send(sim.consent("granted", request_id))
    await client.expect("ack")
    await client.send(part(str(uuid.uuid4()), 0, 1, [1, 2, 3]))
    await client.backlog()
    assert await urls(core) == {URL.format(n) for n in (1, 2, 3)}
    whole = str(uuid.uuid4())
    await client.send(part(whole, 0, 2, [1, 2]))
    await client.backlog()
    await lock.take()
    await client.send(part(whole, 1, 2, [4]))  # completes it: product 3 is gone
    await release_in_the_pause(lock, retries)
    await client.backlog()
    assert retries.count == 1
    assert await urls(core) == {URL.format(n) for n in (1, 2, 4)}
