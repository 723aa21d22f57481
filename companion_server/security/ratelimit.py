"""Fixed-window rate limits stored in the database (shared by every portal instance)."""

from __future__ import annotations

from datetime import datetime
import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from companion_server.errors import RateLimited
from companion_server.models import RateLimitCounter

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.settings import RateLimit


async def hit(db: AsyncSession, now: datetime, bucket: str, subject: str, rule: RateLimit) -> int:
    """Count one event for ``subject`` in ``bucket``; return the count in this window."""
    window = int(now.timestamp()) // rule.window_seconds
    window_end = datetime.fromtimestamp((window + 1) * rule.window_seconds, now.tzinfo)
    key = hashlib.sha256(f"{bucket}\0{subject}\0{window}".encode()).hexdigest()
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(RateLimitCounter).values(key=key, window_end=window_end, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[RateLimitCounter.key], set_={"count": RateLimitCounter.count + 1}
    ).returning(RateLimitCounter.count)
    count: int = (await db.execute(stmt)).scalar_one()
    return count


async def check(
    db: AsyncSession, now: datetime, bucket: str, subject: str, rule: RateLimit
) -> None:
    """Count one event and raise :class:`RateLimited` once over the limit."""
    if await hit(db, now, bucket, subject, rule) > rule.limit:
        window_end = (int(now.timestamp()) // rule.window_seconds + 1) * rule.window_seconds
        raise RateLimited(max(1, window_end - int(now.timestamp())))


async def allowed(
    db: AsyncSession, now: datetime, bucket: str, subject: str, rule: RateLimit
) -> bool:
    """Count one event; whether it is still within the limit."""
    return await hit(db, now, bucket, subject, rule) <= rule.limit


async def purge(db: AsyncSession, now: datetime) -> None:
    """Forget finished windows."""
    await db.execute(delete(RateLimitCounter).where(RateLimitCounter.window_end < now))
