"""Storage of one entry's portal state: the outbox, the ids received, consent and actions.

The channel and the monitoring each keep their part of one stored document; a write takes
every part as it is at that moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, TypedDict, cast

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN

if TYPE_CHECKING:  # pragma: no cover
    import asyncio
    from collections.abc import Callable

STORAGE_VERSION: Final = 1
# The stored document's keys, in the order they are written.
_KEYS: Final = ("outbox", "seen", "monitoring", "request", "alert_ids", "running", "centre")


class StoredPortal(TypedDict, total=False):
    """What the store holds (every key optional: older files may lack some)."""

    outbox: list[dict[str, Any]]
    seen: list[str]
    monitoring: str | None
    request: dict[str, Any] | None
    alert_ids: dict[str, str]
    # Actions acknowledged and not finished: action_id -> kind.
    running: dict[str, str]
    # The monitoring centre: the case followed and the alarm ids of the alarms raised.
    centre: dict[str, Any]


def storage_key(entry_id: str) -> str:
    """Store key of one entry's portal state (outbox, consent)."""
    return f"{DOMAIN}.{entry_id}.portal"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an entry's portal state (the entry was deleted)."""
    await Store[StoredPortal](hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()


class PortalStore:
    """One entry's portal state on disk, written from the parts its owners register."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the store; nothing is read before ``async_load``."""
        self._hass = hass
        self._store: Store[StoredPortal] = Store(hass, STORAGE_VERSION, storage_key(entry_id))
        self._parts: list[Callable[[], StoredPortal]] = []
        self._dirty = False  # changed since the write under way began
        self._saving: asyncio.Task[None] | None = None

    def add_part(self, part: Callable[[], StoredPortal]) -> None:
        """``part()`` gives the keys one owner keeps in the store."""
        self._parts.append(part)

    async def async_load(self) -> StoredPortal | None:
        """The stored state, or None when nothing was stored yet."""
        return await self._store.async_load()

    def _stored(self) -> StoredPortal:
        parts: dict[str, Any] = {}
        for part in self._parts:
            parts.update(part())
        return cast("StoredPortal", {key: parts[key] for key in _KEYS if key in parts})

    async def async_save(self) -> None:
        """Write the state now."""
        await self._store.async_save(self._stored())

    @callback
    def async_schedule_save(self) -> None:
        """Write the state now; changes made meanwhile go in the next write, once.

        A backlog of thousands of frames changes the state thousands of times in a row:
        one write per change would rewrite the whole outbox each time.
        """
        self._dirty = True
        if self._saving is None:
            self._saving = self._hass.async_create_task(self._async_write(), eager_start=True)

    async def _async_write(self) -> None:
        try:
            while self._dirty:
                self._dirty = False
                await self.async_save()
        finally:
            self._saving = None
