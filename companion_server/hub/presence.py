"""Whether an installation's Home Assistant is connected, as the channel records it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.models import InstallationLink, InstallationState

if TYPE_CHECKING:
    from companion_server.core import Core


async def connection_changed(core: Core, installation_id: int, link_id: int, up: bool) -> None:
    """Record that the installation's Home Assistant connected or went away."""
    now = core.now()
    async with core.tx() as db:
        link = await db.get(InstallationLink, link_id)
        if link is None or link.revoked_at is not None:
            return
        state = await db.get(InstallationState, installation_id)
        if state is None:
            return
        if state.connected != up:
            state.connected = up
            state.connected_changed_at = now
        state.last_contact_at = now
