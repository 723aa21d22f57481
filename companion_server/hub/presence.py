"""Whether an installation's Home Assistant is connected, as the channel records it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, update

from companion_server.models import InstallationLink, InstallationState

if TYPE_CHECKING:
    from companion_server.core import Core

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


def held_digest(installation_id: int, mark: str, digest: str | None) -> dict[str, object]:
    """The parameters of :data:`STORE_HELD_DIGEST` for a connection that ends."""
    return {"state_id": installation_id, "mark": mark, "digest": digest}


async def connection_changed(
    core: Core,
    installation_id: int,
    link_id: int,
    up: bool,
    held: tuple[str, str | None] | None = None,
) -> None:
    """Record that the installation's Home Assistant connected or went away.

    ``held``: a connection that ends, its mark and the digest its updates led to.
    """
    now = core.now()
    async with core.tx() as db:
        link = await db.get(InstallationLink, link_id)
        if link is None or link.revoked_at is not None:
            return
        if held is not None:
            await (await db.connection()).execute(
                STORE_HELD_DIGEST, [held_digest(installation_id, *held)]
            )
        state = await db.get(InstallationState, installation_id)
        if state is None:
            return
        if state.connected != up:
            state.connected = up
            state.connected_changed_at = now
        state.last_contact_at = now
