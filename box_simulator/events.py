"""Event listeners registered by clients, and the events the box queues for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
import uuid

from . import errors
from .values import now_ms

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class Listener:
    """An event listener registered by a client."""

    id: str
    last_fetch: float
    events: list[dict[str, Any]] = field(default_factory=list)


class EventSource:
    """The box's event listeners (the first layer of :class:`box_simulator.box.Box`).

    The attributes are set by ``Box.__init__``.
    """

    setup_oid: str
    clock: Callable[[], float]
    listener_timeout: float
    listeners: dict[str, Listener]

    def emit(self, name: str, **fields: Any) -> None:
        """Queue an event for every live listener."""
        self.expire_listeners()
        event = {"name": name, "timestamp": now_ms(), "setupOID": self.setup_oid, **fields}
        for listener in self.listeners.values():
            listener.events.append(event)

    def expire_listeners(self) -> None:
        """Forget listeners not fetched for ``listener_timeout`` seconds."""
        limit = self.clock() - self.listener_timeout
        for listener_id in [k for k, v in self.listeners.items() if v.last_fetch < limit]:
            del self.listeners[listener_id]

    def register_listener(self) -> str:
        """Register a new event listener."""
        self.expire_listeners()
        listener = Listener(id=str(uuid.uuid4()), last_fetch=self.clock())
        self.listeners[listener.id] = listener
        return listener.id

    def fetch(self, listener_id: str) -> list[dict[str, Any]]:
        """Return and clear a listener's events."""
        self.expire_listeners()
        listener = self.listeners.get(listener_id)
        if listener is None:
            raise errors.no_listener()
        listener.last_fetch = self.clock()
        events, listener.events = listener.events, []
        return events

    def unregister_listener(self, listener_id: str) -> None:
        """Drop a listener; unknown ids are accepted, as on a real box."""
        self.listeners.pop(listener_id, None)
