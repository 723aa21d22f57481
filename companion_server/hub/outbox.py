"""The outbox of frames for an installation's Home Assistant (``portal_frames``).

Frames wait here until Home Assistant acknowledges them. They are sent one by one, read a
page at a time, so that a long backlog (Home Assistant offline for days) never makes one
large message. A frame that makes no sense later (a live command of the web app) carries an
expiry: once past it, it is never sent, and the action it carried ends as ``expired``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, or_, select

from companion_server.hub import protocol
from companion_server.journal import log
from companion_server.models import Installation, PortalFrame, RemoteAction

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from sqlalchemy.ext.asyncio import AsyncSession

# Frames read per query when sending a backlog.
PAGE: Final = 200
# The result an action gets when its frame expired before Home Assistant received it.
EXPIRED: Final = "expired"


def queue_frame(
    db: AsyncSession,
    installation_id: int,
    now: datetime,
    kind: str,
    payload: dict[str, Any],
    *,
    ttl: timedelta | None = None,
) -> None:
    """Add a frame for Home Assistant (sent once the transaction is committed)."""
    db.add(
        PortalFrame(
            installation_id=installation_id,
            frame_id=protocol.new_frame_id(),
            type=kind,
            payload=json.dumps(payload),
            created_at=now,
            expires_at=None if ttl is None else now + ttl,
        )
    )


async def expire_due(db: AsyncSession, installation_id: int, now: datetime) -> int:
    """Drop the installation's frames past their expiry; their actions end ``expired``."""
    expired = list(
        await db.scalars(
            select(PortalFrame).where(
                PortalFrame.installation_id == installation_id,
                PortalFrame.acked_at.is_(None),
                PortalFrame.expires_at.is_not(None),
                PortalFrame.expires_at <= now,
            )
        )
    )
    if not expired:
        return 0
    action_ids = [
        str(json.loads(frame.payload).get("action_id", "")).lower()
        for frame in expired
        if frame.type == "action"
    ]
    if action_ids:
        installation = await db.get(Installation, installation_id)
        assert installation is not None
        for action in await db.scalars(
            select(RemoteAction).where(
                RemoteAction.installation_id == installation_id,
                RemoteAction.action_id.in_(action_ids),
                RemoteAction.result_at.is_(None),
            )
        ):
            action.ok = False
            action.error = EXPIRED
            action.result_at = now
            detail = f"{action.summary or action.kind}: error: {EXPIRED}"
            log(db, installation, now, "action_result", detail=detail[:500])
    await db.execute(delete(PortalFrame).where(PortalFrame.id.in_([f.id for f in expired])))
    return len(expired)


async def pending_page(
    db: AsyncSession, installation_id: int, now: datetime, after: int = 0
) -> list[PortalFrame]:
    """Up to :data:`PAGE` unacknowledged, unexpired frames after row ``after``, oldest first."""
    return list(
        await db.scalars(
            select(PortalFrame)
            .where(
                PortalFrame.installation_id == installation_id,
                PortalFrame.acked_at.is_(None),
                PortalFrame.id > after,
                or_(PortalFrame.expires_at.is_(None), PortalFrame.expires_at > now),
            )
            .order_by(PortalFrame.id)
            .limit(PAGE)
        )
    )
