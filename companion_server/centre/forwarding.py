"""Where accepted alarms leave for an outside alarm receiving centre (SIA DC-09).

Called for every alarm of an installation whose subscription is active, raised or restored,
in the transaction that records it, so the event is queued exactly when the alarm is kept.
The SIA outbox queues it for the company's receiving centre, if it contracts one, and its
worker delivers it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.centre.sia.outbox import queue_alarm

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession


async def alarm_received(
    session: AsyncSession,
    *,
    company_id: int,
    installation_id: int,
    kind: str,
    active: bool,
    at: datetime,
    device_label: str | None,
) -> None:
    """An alarm (``active``) or its restore reached the centre for this installation."""
    await queue_alarm(
        session,
        company_id=company_id,
        installation_id=installation_id,
        kind=kind,
        active=active,
        at=at,
        device_label=device_label,
    )
