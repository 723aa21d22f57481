"""The homeowner's support plan and services, as the portal tells them.

The portal sends the whole state (``services``, acknowledged) after every change of the
customer's subscriptions and on every connection. Home Assistant keeps the newest (across
restarts, in its own store like the tickets), and forgets it when the link changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import translation
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from . import portal_frames as frames
from .const import DOMAIN

if TYPE_CHECKING:  # pragma: no cover
    import asyncio
    from collections.abc import Callable

    from .portal_channel import PortalChannel

STORAGE_VERSION: Final = 1
CATEGORY: Final = "common"


def storage_key(entry_id: str) -> str:
    """Store key of one entry's plan and services."""
    return f"{DOMAIN}.{entry_id}.services"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an entry's plan and services (the entry was deleted)."""
    await Store[dict[str, Any]](hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()


class Subscriptions:
    """One entry's support plan and services on the portal."""

    def __init__(self, hass: HomeAssistant, entry_id: str, channel: PortalChannel) -> None:
        """Take the ``services`` frames of the channel; ``async_load`` reads what was kept."""
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, storage_key(entry_id))
        self.plan: dict[str, Any] | None = None
        self.services: list[dict[str, Any]] = []
        self.at: str | None = None
        self._strings: dict[str, str] = {}
        self._listeners: list[Callable[[], None]] = []
        self._saving: asyncio.Task[None] | None = None
        channel.register((frames.SERVICES,), self._async_on_frame)
        channel.on_reset(self._reset)

    async def async_load(self) -> None:
        """The state kept from before, and the names of the services."""
        stored = await self._store.async_load()
        if stored is not None:
            self.plan = stored.get("plan")
            self.services = list(stored.get("services") or [])
            self.at = stored.get("at")
        self._strings = await translation.async_get_translations(
            self._hass, self._hass.config.language, CATEGORY, {DOMAIN}
        )

    def service_name(self, code: str) -> str:
        """A service as the homeowner reads it (its code when Home Assistant does not know it)."""
        return self._strings.get(f"component.{DOMAIN}.{CATEGORY}.service_{code}", code)

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every change; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _reset(self) -> None:
        """A new link or none: the services of the old one no longer apply."""
        self.plan, self.services, self.at = None, [], None
        self._save()

    def _save(self) -> None:
        data = {"plan": self.plan, "services": self.services, "at": self.at}
        self._saving = self._hass.async_create_task(self._store.async_save(data), eager_start=True)
        for listener in list(self._listeners):
            listener()

    async def async_stop(self) -> None:
        """Let the last write end (the entry is unloading)."""
        if self._saving is not None:
            await self._saving

    async def _async_on_frame(self, _frame_type: str, payload: dict[str, Any]) -> None:
        if _not_older(payload["at"], self.at):  # an older state resent late is dropped
            self.plan, self.services = payload["plan"], list(payload["services"])
            self.at = payload["at"]
            self._save()

    def as_diagnostics(self) -> dict[str, Any]:
        """Which plan and services, and in which state: what the sensors show."""
        return {
            "at": self.at,
            "plan": None if self.plan is None else self.plan["code"],
            "services": [{"code": s["code"], "state": s["state"]} for s in self.services],
        }


def _not_older(at: str, than: str | None) -> bool:
    if than is None:
        return True
    new, old = dt_util.parse_datetime(at), dt_util.parse_datetime(than)
    return new is None or old is None or new >= old
