"""Homes gone together (a network cut) are all shown offline, however many."""

from __future__ import annotations

import asyncio
import logging

from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import select, update

from benchmarks.portal_ws import seed
from companion_server.app import create_app
from companion_server.app_keys import CORE, HUB
from companion_server.hub import api
from companion_server.models import InstallationLink, InstallationState
from tests.companion.conftest import fast_settings

HOMES = 300


async def test_every_disconnection_is_recorded_when_all_go_at_once(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(database_url, HOMES)
    # A short wait bound for the pool and the database's lock: taken all at once, 300
    # transactions would wait past it.
    app = create_app(fast_settings(database_url, database_busy_seconds=0.5))
    server = TestServer(app)
    await server.start_server()
    try:
        core, hub = app[CORE], app[HUB]
        async with core.tx() as db:
            await db.execute(update(InstallationState).values(connected=True))
            links = (
                await db.execute(select(InstallationLink.installation_id, InstallationLink.id))
            ).all()
        assert len(links) == HOMES
        with caplog.at_level(logging.WARNING):
            await asyncio.gather(
                *(api._record_disconnection(hub, inst, link) for inst, link in links)
            )
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        async with core.tx() as db:
            shown = (await db.scalars(select(InstallationState.connected))).all()
        assert shown == [False] * HOMES
    finally:
        await server.close()
