"""Retention: the portal purges what it no longer needs, in small batches.

Defaults (``Settings.retention_*``, see ``docs/portal.md``):

- de-duplication records of frames from Home Assistant (``received_frames``): 90 days, and
  only once Home Assistant has connected again since the frame came (it resends every frame
  not acknowledged at each connection, however old, so a record may only go once that resend
  has found it) or the installation's link has ended (nothing can come from it any more);
- frames to Home Assistant it has acknowledged (``portal_frames``): 90 days (pending ones stay);
- radio history: every sample for 30 days, then the first sample of each product and hour,
  all of it dropped after 365 days;
- mail delivered or given up: 90 days (mail still to send stays);
- the security audit (``audit_events``) and the intervention log are kept.

Each batch is its own short transaction of at most ``retention_batch`` rows, so the job never
holds the database for long; on PostgreSQL one instance at a time runs it (advisory lock).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, exists, or_, select, text, tuple_

from companion_server.models import (
    InstallationLink,
    InstallationState,
    OutboxMessage,
    PortalFrame,
    RadioSample,
    ReceivedFrame,
    RetentionMark,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

LOGGER = logging.getLogger(__name__)
# Any constant: at most one instance runs the retention job at a time on PostgreSQL.
RETENTION_LOCK_ID = 4_842_117_002
# Let other writers in between two batches.
BATCH_PAUSE_SECONDS = 0.05
# After a start, wait before the first run (a portal restarted in a loop stays light).
FIRST_RUN_SECONDS = 60.0
RADIO_MARK = "radio_downsampled"


async def run(core: Core) -> None:
    """Run the job every ``retention_interval_minutes`` (the first run shortly after start)."""
    delay = FIRST_RUN_SECONDS
    while True:
        await asyncio.sleep(delay)
        delay = core.settings.retention_interval_minutes * 60
        try:
            await run_once(core)
        except Exception:
            LOGGER.exception("Retention run failed; trying again at the next one")


async def run_once(core: Core) -> dict[str, int] | None:
    """One run: rows deleted per kind, or None when another instance is running it."""
    async with _sole_runner(core) as alone:
        if not alone:
            return None
        purged = {
            "received_frames": await _purge_dedupe_records(core),
            "portal_frames": await _purge_acked_portal_frames(core),
            "radio_samples_downsampled": await _downsample_radio(core),
            "radio_samples_dropped": await _drop_radio(core),
            "mail_outbox": await _purge_mail(core),
        }
    if any(purged.values()):
        LOGGER.info("Retention: %s", ", ".join(f"{k} {v}" for k, v in purged.items() if v))
    return purged


@asynccontextmanager
async def _sole_runner(core: Core) -> AsyncIterator[bool]:
    if core.engine.dialect.name != "postgresql":
        yield True  # SQLite serves one process, which runs one job
        return
    async with core.engine.connect() as conn:
        lock = text(f"SELECT pg_try_advisory_lock({RETENTION_LOCK_ID})")
        alone = bool(await conn.scalar(lock))
        await conn.commit()  # a session lock: held by this connection, not a transaction
        try:
            yield alone
        finally:
            if alone:
                await conn.execute(text(f"SELECT pg_advisory_unlock({RETENTION_LOCK_ID})"))
                await conn.commit()


async def _in_batches(core: Core, batch: Callable[[AsyncSession, int], Awaitable[int]]) -> int:
    """Repeat ``batch`` (one transaction each) until it handles fewer rows than the limit."""
    limit = core.settings.retention_batch
    total = 0
    while True:
        async with core.tx() as db:
            done = await batch(db, limit)
        total += done
        if done < limit:
            return total
        await asyncio.sleep(BATCH_PAUSE_SECONDS)


async def _purge_dedupe_records(core: Core) -> int:
    cutoff = core.now() - timedelta(days=core.settings.retention_dedupe_days)
    frame = ReceivedFrame
    link_alive = exists().where(
        InstallationLink.installation_id == frame.installation_id,
        InstallationLink.revoked_at.is_(None),
    )
    reconnected_since = exists().where(
        InstallationState.installation_id == frame.installation_id,
        InstallationState.connected.is_(True),
        InstallationState.connected_changed_at > frame.received_at,
    )
    keys = (
        select(frame.installation_id, frame.frame_id)
        .where(frame.received_at < cutoff, or_(~link_alive, reconnected_since))
        .order_by(frame.received_at)
    )

    async def batch(db: AsyncSession, limit: int) -> int:
        rows = [tuple(row) for row in await db.execute(keys.limit(limit))]
        if rows:
            pair = tuple_(frame.installation_id, frame.frame_id)
            await db.execute(delete(frame).where(pair.in_(rows)))
        return len(rows)

    return await _in_batches(core, batch)


async def _purge_acked_portal_frames(core: Core) -> int:
    cutoff = core.now() - timedelta(days=core.settings.retention_dedupe_days)
    return await _delete_ids(
        core, PortalFrame, select(PortalFrame.id).where(PortalFrame.acked_at < cutoff)
    )


async def _drop_radio(core: Core) -> int:
    cutoff = core.now() - timedelta(days=core.settings.retention_radio_days)
    return await _delete_ids(
        core, RadioSample, select(RadioSample.id).where(RadioSample.at < cutoff)
    )


async def _purge_mail(core: Core) -> int:
    cutoff = core.now() - timedelta(days=core.settings.retention_mail_days)
    sent = select(OutboxMessage.id).where(OutboxMessage.sent_at < cutoff)
    given_up = select(OutboxMessage.id).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at < cutoff
    )
    return await _delete_ids(core, OutboxMessage, sent) + await _delete_ids(
        core, OutboxMessage, given_up
    )


async def _delete_ids(core: Core, model: Any, ids: Any) -> int:
    async def batch(db: AsyncSession, limit: int) -> int:
        chosen: Sequence[int] = list(await db.scalars(ids.limit(limit)))
        if chosen:
            await db.execute(delete(model).where(model.id.in_(chosen)))
        return len(chosen)

    return await _in_batches(core, batch)


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


async def _downsample_radio(core: Core) -> int:
    """Keep the first sample of each product and hour older than the full-history period.

    Samples are read in time order from where the previous run stopped (hours are whole, so
    an hour is never split between two runs), in batches; the mark moves once all are done.
    """
    end = _hour(core.now() - timedelta(days=core.settings.retention_radio_full_days))
    async with core.tx() as db:
        mark = await db.get(RetentionMark, RADIO_MARK)
        start = mark.at if mark is not None else None
    kept: dict[int, datetime] = {}  # product -> hour of the sample kept last
    cursor: tuple[datetime, int] | None = None
    removed = 0

    async def batch(db: AsyncSession, limit: int) -> int:
        nonlocal cursor, removed
        query = select(RadioSample.id, RadioSample.device_id, RadioSample.at).where(
            RadioSample.at < end
        )
        if start is not None:
            query = query.where(RadioSample.at >= start)
        if cursor is not None:
            at, sample_id = cursor
            query = query.where(
                or_(RadioSample.at > at, and_(RadioSample.at == at, RadioSample.id > sample_id))
            )
        rows = list(await db.execute(query.order_by(RadioSample.at, RadioSample.id).limit(limit)))
        extra: list[int] = []
        for sample_id, device_id, at in rows:
            if kept.get(device_id) == _hour(at):
                extra.append(sample_id)
            else:
                kept[device_id] = _hour(at)
        if extra:
            await db.execute(delete(RadioSample).where(RadioSample.id.in_(extra)))
            removed += len(extra)
        if rows:
            cursor = (rows[-1].at, rows[-1].id)
        return len(rows)

    await _in_batches(core, batch)
    async with core.tx() as db:
        mark = await db.get(RetentionMark, RADIO_MARK)
        if mark is None:
            db.add(RetentionMark(name=RADIO_MARK, at=end))
        elif mark.at < end:
            mark.at = end
    return removed
