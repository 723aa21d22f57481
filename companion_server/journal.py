"""The interventions journal of an installation: who did what, when (``intervention_log``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.models import InterventionEntry

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.models import Installation, User


def log(
    db: AsyncSession,
    installation: Installation,
    now: datetime,
    kind: str,
    *,
    actor: User | None = None,
    detail: str | None = None,
    private: bool = False,
) -> None:
    """Add an entry to the installation's interventions log (in the caller's transaction)."""
    db.add(
        InterventionEntry(
            installation_id=installation.id,
            company_id=installation.company_id,
            at=now,
            kind=kind,
            actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else None,
            detail=detail,
            private=private,
        )
    )
