"""Each installation's subscription to the monitoring centre, as Home Assistant sends it.

The newest ``updated_at`` wins (a frame resent late does not undo a newer one). Stopping
forgets the contacts, the address and the instructions at once, and no case opens from
then on; cases already open carry on with the contacts they opened with.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import TYPE_CHECKING, Any, Final

from companion_server.models import CentreSubscription

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

ACTIVE: Final = "active"
STOPPED: Final = "stopped"
NO_ON_SITE: Final = {"guard_may_enter": False, "key_holder": "", "access_notes": ""}


@dataclass(frozen=True, slots=True)
class Subscription:
    """What the console shows of a subscription."""

    status: str
    complete: bool
    contacts: list[dict[str, Any]]
    address: dict[str, str] | None
    instructions: str
    on_site: dict[str, Any]
    updated_at: datetime

    @property
    def opens_cases(self) -> bool:
        """Active, complete, a first contact and an address (M8): alarms open cases."""
        return (
            self.status == ACTIVE
            and self.complete
            and bool(self.contacts)
            and self.address is not None
        )


def view(row: CentreSubscription) -> Subscription:
    """The stored subscription, parsed."""
    return Subscription(
        status=row.status,
        complete=row.complete,
        contacts=json.loads(row.contacts),
        address=None if row.address is None else json.loads(row.address),
        instructions=row.instructions,
        on_site=json.loads(row.on_site),
        updated_at=row.updated_at,
    )


async def of_installation(db: AsyncSession, installation_id: int) -> Subscription | None:
    """The installation's subscription, if Home Assistant ever sent one."""
    row = await db.get(CentreSubscription, installation_id)
    return None if row is None else view(row)


async def store(
    db: AsyncSession, installation_id: int, payload: dict[str, Any], now: datetime
) -> bool:
    """Store a ``centre_subscription``; False when an older one than the stored one came."""
    row = await db.get(CentreSubscription, installation_id, with_for_update=True)
    if row is not None and payload["updated_at"] < row.updated_at:
        return False
    stopped = payload["status"] == STOPPED
    values = {
        "status": payload["status"],
        "complete": payload["complete"] and not stopped,
        "contacts": json.dumps([] if stopped else payload["contacts"]),
        "address": None
        if stopped or payload["address"] is None
        else json.dumps(payload["address"]),
        "instructions": "" if stopped else payload["instructions"],
        "on_site": json.dumps(NO_ON_SITE if stopped else payload["on_site"]),
        "updated_at": payload["updated_at"],
        "received_at": now,
    }
    if row is None:
        db.add(CentreSubscription(installation_id=installation_id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
    return True
