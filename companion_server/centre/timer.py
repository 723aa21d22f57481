"""The call-back wait's end, kept by the database: a sweep records ``second_round``.

Each waiting case stores its deadline. Every portal instance sweeps now and then (and when
the nearest deadline comes): it takes the cases whose deadline passed, locked, skipping
those another instance has locked (PostgreSQL ``FOR UPDATE SKIP LOCKED``; on SQLite the
process's write turn), and records the step as the ``timer``, written over the version it
read. A restart loses nothing (the deadline is in the table); a second instance, or an
operator starting the round at the same moment, cannot double it: whoever comes second
finds the phase changed and records nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from sqlalchemy import func, select

from companion_server.centre import store
from companion_server.centre.clock import database_now
from companion_server.centre.protocol_values import TIMER, Action, ActionKind, Phase, ProtocolError
from companion_server.models import CentreCase

if TYPE_CHECKING:
    from datetime import timedelta

    from companion_server.core import Core

LOGGER = logging.getLogger(__name__)
# At most this long between two sweeps; sooner when a deadline comes first.
SWEEP_SECONDS: Final = 5.0
BATCH: Final = 50


async def sweep(core: Core) -> int:
    """Start the second round of every case whose wait is over; how many were started."""
    changes = store.Changes.none()
    started = 0
    async with core.tx() as db:
        now = await database_now(db, core)
        rows = list(
            await db.scalars(
                select(CentreCase)
                .where(
                    CentreCase.phase == Phase.WAITING.value,
                    CentreCase.deadline <= now,
                    CentreCase.closed_at.is_(None),
                )
                .order_by(CentreCase.deadline, CentreCase.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            try:
                async with db.begin_nested():
                    action = Action(ActionKind.SECOND_ROUND, TIMER, now)
                    await store.write(db, row, store.state_of(row), action, changes)
            except ProtocolError as err:
                LOGGER.info("Case %s: no second round (%s)", row.id, err.message)
                continue
            started += 1
    await store.notify(core, changes)
    return started


async def next_deadline(core: Core) -> timedelta | None:
    """How long until the nearest wait ends (None: no case is waiting)."""
    async with core.tx() as db:
        now = await database_now(db, core)
        nearest = await db.scalar(
            select(func.min(CentreCase.deadline)).where(
                CentreCase.phase == Phase.WAITING.value, CentreCase.closed_at.is_(None)
            )
        )
    return None if nearest is None else nearest - now


async def run(core: Core) -> None:
    """Sweep forever: every few seconds, or as soon as the nearest deadline passes."""
    while True:
        delay = SWEEP_SECONDS
        try:
            while await sweep(core) >= BATCH:
                pass
            left = await next_deadline(core)
            if left is not None:
                delay = min(delay, max(0.05, left.total_seconds()))
        except Exception:
            LOGGER.exception("Centre timer failed; trying again")
        await asyncio.sleep(delay)
