"""``alert`` frames: raised and cleared alerts, applied by the time the box reported them.

Frames are delivered at least once and not always in order (a raise the portal failed to
store is resent after the clear that followed it). Each change is applied by its ``at``, the
time Home Assistant saw it on the box, so that any order and any repetition of the same
frames ends in the state that delivery in time order gives, and a raise that arrives after
its own clear is recorded without an e-mail.

One occurrence of an alert (one ``alert_id``) is raised once and cleared at most once; a new
occurrence of the same alert on the same product gets a new ``alert_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from sqlalchemy import or_, select

from companion_server.i18n import translator
from companion_server.i18n.dates import format_when
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    Alert,
    AlertFollowUp,
    AlertSetting,
    InstallationAssignment,
    LockReason,
    User,
)
from companion_server.monitoring.labels import alert_label

if TYPE_CHECKING:
    from datetime import datetime

    from companion_server.hub.dispatch import Context


@dataclass(frozen=True, slots=True)
class AlertState:
    """What the portal records of one occurrence: active, raised at, cleared at."""

    active: bool
    at: datetime
    cleared_at: datetime | None


def apply_change(state: AlertState | None, active: bool, at: datetime) -> tuple[AlertState, bool]:
    """The state after a raise (``active``) or clear reported at ``at``; whether to e-mail.

    A clear and a raise at the same instant: the clear wins (it was reported after).
    """
    if state is None:
        return AlertState(active, at, None if active else at), active
    if active:
        if state.active:
            return AlertState(True, max(state.at, at), None), False
        assert state.cleared_at is not None
        if at > state.cleared_at:
            # Raised after the clear recorded: active again.
            return AlertState(True, at, None), True
        # The clear came first: the raise only tells when it began.
        return AlertState(False, at, state.cleared_at), False
    if state.active:
        if at >= state.at:
            return AlertState(False, state.at, at), False
        return state, False  # a clear older than the raise it would end
    assert state.cleared_at is not None
    return AlertState(False, state.at, max(state.cleared_at, at)), False


async def on_alert(ctx: Context) -> None:
    """An ``alert`` frame: record the change if it is the newest one known, mail a raise."""
    payload = ctx.frame.payload
    alert = await ctx.db.scalar(
        select(Alert).where(
            Alert.installation_id == ctx.installation.id, Alert.alert_id == payload["alert_id"]
        )
    )
    before = None if alert is None else AlertState(alert.active, alert.at, alert.cleared_at)
    after, mail = apply_change(before, payload["active"], payload["at"])
    if alert is None:
        alert = Alert(
            installation_id=ctx.installation.id,
            alert_id=payload["alert_id"],
            device_url=payload.get("device_url"),
            device_label=payload.get("device_label"),
            type=payload["type"],
            received_at=ctx.now,
        )
        ctx.db.add(alert)
    elif payload.get("device_label"):
        alert.device_label = payload["device_label"]
    alert.active, alert.at, alert.cleared_at = after.active, after.at, after.cleared_at
    ctx.outcome.changed = True
    if mail and before is not None:
        # Raised again: it needs someone's attention again (whoever holds it keeps it).
        follow_up = await ctx.db.get(AlertFollowUp, alert.id)
        if follow_up is not None:
            follow_up.acknowledged_at = None
            follow_up.acknowledged_by_id = None
            follow_up.acknowledged_by_name = None
    if mail:
        await _mail_alert(ctx, alert)


async def _mail_alert(ctx: Context, alert: Alert) -> None:
    installation = ctx.installation
    rows = await ctx.db.execute(
        select(User, InstallationAssignment.user_id)
        .join(AlertSetting, AlertSetting.user_id == User.id)
        .outerjoin(
            InstallationAssignment,
            (InstallationAssignment.user_id == User.id)
            & (InstallationAssignment.installation_id == installation.id),
        )
        .where(
            AlertSetting.installation_id == installation.id,
            AlertSetting.alert_type == alert.type,
            User.company_id == installation.company_id,
            User.email_confirmed_at.is_not(None),
            # Wrong passwords typed by anyone lock new logins only: the owner still gets
            # alerts. An operator's lock stops them.
            or_(User.locked_at.is_(None), User.lock_reason == LockReason.FAILURES),
        )
    )
    link = f"{ctx.core.settings.public_url}/installations/{installation.id}/alerts"
    for user, assigned in rows.tuples():
        if not user.is_admin and cast("int | None", assigned) is None:
            continue
        _ = translator(user.language)
        enqueue(
            ctx.db,
            ctx.now,
            MailKind.ALERT,
            user.email,
            user.language,
            name=user.name,
            installation=installation.name,
            alert=_(alert_label(alert.type)),
            device=alert.device_label or alert.device_url or _("the box"),
            time=format_when(alert.at, user.language, user.time_zone),
            link=link,
        )
