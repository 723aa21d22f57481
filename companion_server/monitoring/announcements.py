"""What a live update of an installation's pages may announce: its active alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.models import Alert

if TYPE_CHECKING:
    from companion_server.core import Core

ANNOUNCED_ALERTS = 10


async def active_alerts(core: Core, installation_id: int) -> list[Alert]:
    """The newest active alerts (the caller has checked that the actor may see them)."""
    async with core.tx() as db:
        return list(
            await db.scalars(
                select(Alert)
                .where(Alert.installation_id == installation_id, Alert.active.is_(True))
                .order_by(Alert.at.desc(), Alert.id.desc())
                .limit(ANNOUNCED_ALERTS)
            )
        )
