"""The monitoring centre's frames of Home Assistant: subscription, alarms, the owner's word."""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.billing import monitoring as monitoring_service
from companion_server.centre import intake, store, subscriptions
from companion_server.centre.clock import database_now

if TYPE_CHECKING:
    from companion_server.hub.dispatch import Context, FrameRegistry


def register(registry: FrameRegistry) -> None:
    """Handle ``centre_subscription``, ``centre_alarm`` and ``centre_owner``."""
    registry.handle("centre_subscription", _subscription)
    registry.handle("centre_alarm", _alarm)
    registry.handle("centre_owner", _owner)


def _notify(ctx: Context, changes: store.Changes) -> None:
    """After the commit: the consoles refresh, Home Assistant gets its frames."""
    ctx.outcome.topics.update(store.console_topic(c) for c in changes.companies)
    if changes.installations:
        ctx.outcome.changed = True
    if changes.frames:
        ctx.outcome.queued = True


async def _subscription(ctx: Context) -> None:
    payload = ctx.frame.payload
    if await subscriptions.store(ctx.db, ctx.installation.id, payload, ctx.now):
        ctx.outcome.topics.add(store.console_topic(ctx.installation.company_id))
        stopped = payload["status"] == subscriptions.STOPPED
        if stopped and await monitoring_service.stopped_from_home_assistant(
            ctx.db, ctx.installation.id, ctx.now
        ):
            ctx.outcome.queued = True


async def _alarm(ctx: Context) -> None:
    changes = store.Changes.none()
    now = await database_now(ctx.db, ctx.core)
    await intake.alarm(ctx.db, ctx.installation, ctx.frame.payload, now, changes)
    _notify(ctx, changes)


async def _owner(ctx: Context) -> None:
    changes = store.Changes.none()
    now = await database_now(ctx.db, ctx.core)
    await intake.owner(ctx.db, ctx.installation, ctx.frame.payload, now, changes)
    _notify(ctx, changes)
