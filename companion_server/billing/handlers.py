"""On every ``hello``: the box's support plan and services go to Home Assistant.

Home Assistant sends no services frame, so this area only follows the connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.billing import home_assistant

if TYPE_CHECKING:
    from companion_server.hub.dispatch import Context, FrameRegistry


def register(registry: FrameRegistry) -> None:
    """Follow every ``hello``."""
    registry.on_hello(on_hello, facts=home_assistant.HELLO_FACTS)


async def on_hello(ctx: Context) -> None:
    """Queue the plan and services (the state on connect)."""
    followed = (ctx.facts["box_owner"], ctx.facts["services_subscription"])
    if await home_assistant.queue_for_live_link(ctx.db, ctx.installation, ctx.now, followed):
        ctx.outcome.queued = True
