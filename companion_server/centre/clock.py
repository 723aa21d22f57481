"""The one clock of the monitoring centre's steps: the database's.

Portal instances share one database but not one clock: a step dated by a clock running a
second behind another instance's would look older than the step before it, which the call
protocol refuses. Every step, the timer's comparison with a deadline and a claim take their
time from the database, once per transaction. A core built with its own clock (the tests'
fake clock) is that clock here too, so time moves only when a test says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from companion_server.core import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


async def database_now(db: AsyncSession, core: Core) -> datetime:
    """The current time, aware UTC, from the database (or the core's own clock)."""
    if core.clock is not utcnow:
        return core.now()
    if db.get_bind().dialect.name == "postgresql":
        value = await db.scalar(text("SELECT statement_timestamp()"))
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
    raw = await db.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
    return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)
