"""``unlinked``: Home Assistant ended the link (the frame of the registration area)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.registration.linking import end_link

if TYPE_CHECKING:
    from companion_server.hub.dispatch import Context, FrameRegistry


def register(registry: FrameRegistry) -> None:
    """Handle ``unlinked``."""
    registry.handle("unlinked", _unlinked)


async def _unlinked(ctx: Context) -> None:
    await end_link(ctx.db, ctx.core, ctx.installation, "home_assistant", None)
    ctx.outcome.close = "unlinked"
    ctx.outcome.changed = True
