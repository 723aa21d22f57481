"""Where accepted alarms leave for an outside alarm receiving centre (SIA DC-09).

Called for every alarm of an installation whose subscription is active, raised or restored,
in the transaction that records it. The SIA outbox (``centre/sia/outbox.py``) plugs in here:
it queues the event for the company's receiving centre, if it contracts one. Until then
nothing leaves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
) -> None:
    """An alarm (``active``) or its restore reached the centre for this installation."""
