"""Whether an installation's Home Assistant is connected, as the channel records it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, update

from companion_server.models import InstallationLink, InstallationState

if TYPE_CHECKING:
    from companion_server.core import Core
    from companion_server.hub.hub import Connection

# A connection that ends stores the digest its updates led to, if its mark still stands:
# another connection's update, a snapshot or the link ending in between replaced the mark.
STORE_HELD_DIGEST = (
    update(InstallationState)
    .where(
        InstallationState.installation_id == bindparam("state_id"),
        InstallationState.snapshot_digest == bindparam("mark"),
    )
    .values(snapshot_digest=bindparam("digest"))
)


def held_digest(conn: Connection) -> dict[str, object]:
    """The parameters of :data:`STORE_HELD_DIGEST` for a connection that ends."""
    return {"state_id": conn.installation_id, "mark": conn.mark, "digest": conn.snapshot_digest}


async def connection_changed(
    core: Core, installation_id: int, link_id: int, up: bool, ended: Connection | None = None
) -> None:
    """Record that the installation's Home Assistant connected or went away (``ended``)."""
    now = core.now()
    async with core.tx() as db:
        link = await db.get(InstallationLink, link_id)
        if link is None or link.revoked_at is not None:
            return
        if ended is not None and ended.marked:
            await (await db.connection()).execute(STORE_HELD_DIGEST, [held_digest(ended)])
        state = await db.get(InstallationState, installation_id)
        if state is None:
            return
        if state.connected != up:
            state.connected = up
            state.connected_changed_at = now
        state.last_contact_at = now
