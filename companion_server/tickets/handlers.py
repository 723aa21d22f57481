"""On every ``hello``: the box's tickets and the messages not yet carried go to Home Assistant.

Home Assistant sends no ticket frame; it asks nothing on the channel either (it creates
tickets through ``POST /api/v1/tickets``), so this area only follows the connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.tickets import home_assistant

if TYPE_CHECKING:
    from companion_server.hub.dispatch import Context, FrameRegistry


def register(registry: FrameRegistry) -> None:
    """Follow every ``hello``."""
    registry.on_hello(on_hello, facts=home_assistant.HELLO_FACTS)


async def on_hello(ctx: Context) -> None:
    """Queue the ticket list (snapshot on connect) and the messages still to carry."""
    followed = (ctx.facts["box_owner"], ctx.facts["tickets_ticket"])
    if await home_assistant.queue_on_hello(ctx.core, ctx.db, ctx.installation, followed):
        ctx.outcome.queued = True
