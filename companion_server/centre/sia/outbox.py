"""The durable outbox of alarms to forward: queued in the caller's transaction.

An alarm is queued in the same transaction that records it, so it is forwarded if and
only if it was recorded; the worker (``worker.py``) sends the queue of each company in
order, one message at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from companion_server.centre.sia.events import AlarmEvent, AlarmKind
from companion_server.models import SiaCentre, SiaMessage, SiaState

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

# The monitoring centre's alarm kinds (centre_alarm ``kind``) and their DC-09 events.
KINDS: Final[Mapping[str, AlarmKind]] = {
    "intrusion": AlarmKind.BURGLARY,
    "aggression": AlarmKind.PANIC,
    "tamper": AlarmKind.TAMPER,
    "fire": AlarmKind.FIRE,
}
MAX_LABEL: Final = 200


async def queue_alarm(
    session: AsyncSession,
    *,
    company_id: int,
    installation_id: int | None,
    kind: str,
    active: bool,
    at: datetime,
    device_label: str | None,
) -> SiaMessage | None:
    """Queue an alarm (``active``) or its restore for the company's receiving centre.

    Nothing is queued (None) when the company forwards to no centre, or has switched it
    off. ``kind`` is ``intrusion``, ``aggression``, ``tamper`` or ``fire``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown alarm kind {kind!r}")
    centre = await session.scalar(
        select(SiaCentre).where(SiaCentre.company_id == company_id, SiaCentre.enabled)
    )
    if centre is None:
        return None
    message = SiaMessage(
        company_id=company_id,
        installation_id=installation_id,
        account=centre.account,
        kind=kind,
        restore=not active,
        device_label=device_label[:MAX_LABEL] if device_label else None,
        occurred_at=at,
        attempts=0,
        # Due from the moment it happened: the worker takes it at its next look.
        next_attempt_at=at,
        state=SiaState.PENDING.value,
    )
    session.add(message)
    await session.flush()
    return message


def event_of(message: SiaMessage) -> AlarmEvent:
    """The DC-09 event a queued message reports."""
    return AlarmEvent(KINDS[message.kind], restore=message.restore)
