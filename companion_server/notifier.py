"""What services tell the running hub after their transaction (the hub implements it).

Services see only this protocol through ``Core.hub``: they never import the hub, which
itself dispatches frames to the areas' handlers.
"""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    """Notices to live Home Assistant connections and browsers, wherever they are."""

    async def frames_pending(self, installation_id: int) -> None:
        """New frames for an installation's Home Assistant are in the outbox."""

    async def close_links(
        self, installation_id: int, links: list[int], reason: str, *, tell_ha: bool = False
    ) -> None:
        """Close the installation's live connection if it uses one of ``links`` (ended).

        ``tell_ha``: send ``unlinked`` first.
        """

    async def changed(self, installation_id: int | str) -> None:
        """Browsers watching the installation (or another topic, say a console) should refresh."""
