"""Following an alert up: acknowledging it and giving it to a member of the company.

Whoever may see the installation (its company's administrators, the installers assigned to
it) may acknowledge its alerts and take one for themselves; administrators give an alert to
anyone who may see the installation. Both are written to the interventions log as private
entries (only the company sees them). Another company's alerts are 404, as elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.errors import Forbidden, NotFound
from companion_server.journal import log
from companion_server.models import Alert, AlertFollowUp, User
from companion_server.monitoring.services import granted_installation, recipients
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.models import Installation


@dataclass(slots=True)
class AlertDesk:
    """What the Alerts tab needs to follow alerts up."""

    follow_ups: dict[int, AlertFollowUp]
    people: list[User]  # who an alert may be given to
    assign_anyone: bool  # administrators; installers take alerts for themselves only
    me: int

    def name_of(self, user_id: int | None) -> str | None:
        """The name of a person the alert is given to (None: nobody, or gone)."""
        return next((p.name for p in self.people if p.id == user_id), None)


async def desk(core: Core, actor_id: int, installation_id: int) -> AlertDesk:
    """The follow-ups of an installation's alerts and the people they may be given to."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await granted_installation(db, actor, installation_id)
        rows = await db.scalars(
            select(AlertFollowUp)
            .join(Alert, Alert.id == AlertFollowUp.alert_id)
            .where(Alert.installation_id == installation.id)
        )
        people = await recipients(db, installation)
        return AlertDesk({f.alert_id: f for f in rows}, people, actor.is_admin, actor.id)


async def _alert(
    db: AsyncSession, actor: User, installation_id: int, alert_id: int
) -> tuple[Installation, Alert, AlertFollowUp]:
    installation = await granted_installation(db, actor, installation_id)
    alert = await db.get(Alert, alert_id)
    if alert is None or alert.installation_id != installation.id:
        raise NotFound()
    follow_up = await db.get(AlertFollowUp, alert.id)
    if follow_up is None:
        follow_up = AlertFollowUp(alert_id=alert.id)
        db.add(follow_up)
    return installation, alert, follow_up


def _detail(alert: Alert, **extra: str) -> str:
    """What the log keeps: codes and names, translated when the log is shown."""
    return json.dumps(
        {"alert": alert.type, "device": alert.device_label or alert.device_url or "", **extra}
    )


async def acknowledge(core: Core, actor_id: int, installation_id: int, alert_id: int) -> None:
    """Say the alert was seen (once: acknowledging again changes nothing)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation, alert, follow_up = await _alert(db, actor, installation_id, alert_id)
        if follow_up.acknowledged_at is not None:
            return
        now = core.now()
        follow_up.acknowledged_at = now
        follow_up.acknowledged_by_id = actor.id
        follow_up.acknowledged_by_name = actor.name
        log(
            db,
            installation,
            now,
            "alert_acknowledged",
            actor=actor,
            detail=_detail(alert),
            private=True,
        )
    if core.hub is not None:
        await core.hub.changed(installation_id)


async def assign(
    core: Core, actor_id: int, installation_id: int, alert_id: int, user_id: int | None
) -> None:
    """Give the alert to someone who may see the installation (None: to nobody).

    Installers may only take an alert for themselves or give back one they hold.
    """
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation, alert, follow_up = await _alert(db, actor, installation_id, alert_id)
        people = {p.id: p for p in await recipients(db, installation)}
        if user_id is not None and user_id not in people:
            raise NotFound()
        if not actor.is_admin and (
            (user_id is not None and user_id != actor.id)
            or (user_id is None and follow_up.assigned_to_id not in (None, actor.id))
        ):
            raise Forbidden("Only administrators can give an alert to someone else.")
        if follow_up.assigned_to_id == user_id:
            return
        now = core.now()
        follow_up.assigned_to_id = user_id
        follow_up.assigned_at = now
        to = people[user_id].name if user_id is not None else ""
        log(
            db,
            installation,
            now,
            "alert_assigned",
            actor=actor,
            detail=_detail(alert, to=to),
            private=True,
        )
    if core.hub is not None:
        await core.hub.changed(installation_id)
