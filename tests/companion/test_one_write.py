"""A ``hello`` without a transaction when all it writes is the state row (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
import json
from typing import Any

from aiohttp import web
import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event, select, update

from companion_server.app_keys import CORE, FRAMES
from companion_server.core import Core, after_commit
from companion_server.hub import one_write, protocol
from companion_server.hub.dispatch import Outcome
from companion_server.models import InstallationLink, InstallationState, InterventionEntry
from tests.companion import ha as sim
from tests.companion.ha import Factory, new_ha
from tests.companion.test_hub import linked, state_of

__all__ = ["new_ha"]

POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def trips(core: Core, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements sent, ``BEGIN`` and ``COMMIT`` included (those go as plain text)."""
    sent: list[str] = []

    def statement(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        sent.append(text.split()[0].upper())

    plain = asyncpg.Connection.execute

    async def execute(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        sent.append(query.rstrip(";").split()[0].upper())
        return await plain(self, query, *args, **kw)

    monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    event.listen(core.engine.sync_engine, "before_cursor_execute", statement)
    yield sent
    event.remove(core.engine.sync_engine, "before_cursor_execute", statement)


async def _hello(
    app: web.Application, installation_id: int, trips: list[str], **options: Any
) -> Outcome:
    """The frames' registry applies a ``hello``; ``trips``: only those of the ``hello``."""
    core = app[CORE]
    async with core.tx() as db:
        link_id = await db.scalar(
            select(InstallationLink.id).where(InstallationLink.installation_id == installation_id)
        )
    assert link_id is not None
    frame = protocol.parse_frame(json.dumps(sim.hello(**options)))
    trips.clear()
    return await app[FRAMES].apply(core, link_id, installation_id, frame)


@POSTGRESQL
async def test_an_unchanged_box_hello_is_a_read_and_an_update(
    app: web.Application, core: Core, new_ha: Factory, trips: list[str]
) -> None:
    _, installation_id, _ = await linked(core, new_ha)
    outcome = await _hello(app, installation_id, trips)
    assert trips == ["SELECT", "UPDATE"]
    assert outcome.ready and not outcome.takeover
    state = await state_of(core, installation_id)
    assert (
        state.connected
        and state.integration_version == sim.hello()["payload"]["integration_version"]
    )
    # Shown connected now: the next hello asks the others to close the older connection,
    # and within the contact resolution it changes nothing: one read.
    assert (await _hello(app, installation_id, trips)).takeover
    assert trips == ["SELECT"]


async def test_a_hello_that_writes_more_is_applied_once_in_a_transaction(
    app: web.Application, core: Core, new_ha: Factory, database_url: str, trips: list[str]
) -> None:
    _, installation_id, _ = await linked(core, new_ha)
    outcome = await _hello(app, installation_id, trips, monitoring=True)
    # Monitoring granted: the state and an entry of the installation's log, together.
    assert outcome.monitoring == "granted"
    assert (await state_of(core, installation_id)).connected
    async with core.tx() as db:
        logged = list(
            await db.scalars(
                select(InterventionEntry.kind).where(
                    InterventionEntry.installation_id == installation_id
                )
            )
        )
    assert logged.count("monitoring_granted") == 1
    if database_url.startswith("postgresql"):
        # Stopped before its first write, then again in a transaction: no takeover, as
        # nothing of the first try reached the database.
        assert trips[:1] == ["SELECT"] and "BEGIN" in trips and trips[-1] == "COMMIT"
        assert trips.count("UPDATE") == 1 and not outcome.takeover


@POSTGRESQL
async def test_writes_beyond_one_row_never_reach_the_database(core: Core, new_ha: Factory) -> None:
    _, installation_id, _ = await linked(core, new_ha)
    sessions = one_write.sessions(core.engine)

    async def attempt(write: Any) -> None:
        with pytest.raises(one_write.NeedsTransaction):
            async with core.tx(sessions) as db:
                state = await db.get(InstallationState, installation_id)
                assert state is not None
                await write(db, state)

    async def early(db: Any, state: InstallationState) -> None:
        state.integration_version = "early"
        await db.flush()

    async def statement(db: Any, state: InstallationState) -> None:
        await db.execute(update(InstallationState).values(integration_version="statement"))

    async def second_row(db: Any, state: InstallationState) -> None:
        state.integration_version = "second"
        link = await db.scalar(select(InstallationLink))
        link.ha_name = "changed"
        db.info[one_write.MAY_WRITE], db.info[one_write.DONE] = state, True

    now = core.now()

    async def added(db: Any, state: InstallationState) -> None:
        state.integration_version = "added"
        db.add(InterventionEntry(installation_id=installation_id, company_id=0, at=now, kind="x"))
        db.info[one_write.MAY_WRITE], db.info[one_write.DONE] = state, True

    async def later(db: Any, state: InstallationState) -> None:
        async def nothing() -> None:
            return None

        state.integration_version = "later"
        after_commit(db, nothing)
        db.info[one_write.MAY_WRITE], db.info[one_write.DONE] = state, True

    async def locked(db: Any, state: InstallationState) -> None:
        await db.execute(select(InstallationLink).with_for_update())

    before = await state_of(core, installation_id)
    for write in (early, statement, second_row, added, later, locked):
        await attempt(write)
    after = await state_of(core, installation_id)
    assert after.integration_version == before.integration_version
    async with core.tx() as db:
        assert await db.scalar(select(InstallationLink.ha_name)) != "changed"
    # The one row it may write, at the end: written.
    async with core.tx(sessions) as db:
        state = await db.get(InstallationState, installation_id)
        assert state is not None
        state.integration_version = "9.9.9"
        db.info[one_write.MAY_WRITE], db.info[one_write.DONE] = state, True
    assert (await state_of(core, installation_id)).integration_version == "9.9.9"
