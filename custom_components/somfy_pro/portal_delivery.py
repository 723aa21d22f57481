"""Delivery guarantees of the portal channel, Home Assistant side.

- Frames kept until acknowledged are sent again when no acknowledgement comes in time,
  on the live connection too (the portal may have failed to store one, e.g. its database
  was busy): after ``ACK_TIMEOUT``, then twice as long each time, up to ``ACK_TIMEOUT_MAX``.
- An installer's action is written down as accepted before Home Assistant acknowledges
  it; if Home Assistant stops before the action's result is kept for the portal, the next
  start reports it ``interrupted``, so that every accepted action ends with a result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from datetime import datetime

ACK_TIMEOUT: Final = 10.0
ACK_TIMEOUT_MAX: Final = 300.0
# The result of an action Home Assistant accepted but stopped before finishing.
ERROR_INTERRUPTED: Final = "interrupted"


class AckTimers:
    """One timer per frame sent and not acknowledged yet; ``resend`` when it fires."""

    def __init__(self, hass: HomeAssistant, resend: Callable[[dict[str, Any]], None]) -> None:
        """Call ``resend(frame)`` for a frame whose acknowledgement is late."""
        self._hass = hass
        self._resend = resend
        self._timers: dict[str, CALLBACK_TYPE] = {}
        self._delays: dict[str, float] = {}

    @callback
    def sent(self, frame: dict[str, Any]) -> None:
        """``frame`` went out: expect its acknowledgement (each time twice as late)."""
        frame_id = str(frame["id"])
        delay = min(ACK_TIMEOUT_MAX, self._delays.get(frame_id, ACK_TIMEOUT / 2) * 2)
        self._delays[frame_id] = delay
        if (cancel := self._timers.pop(frame_id, None)) is not None:
            cancel()

        @callback
        def _late(_now: datetime) -> None:
            self._timers.pop(frame_id, None)
            self._resend(frame)

        self._timers[frame_id] = async_call_later(self._hass, delay, _late)

    @callback
    def acked(self, frame_id: str) -> None:
        """The acknowledgement of ``frame_id`` came."""
        self._delays.pop(frame_id, None)
        if (cancel := self._timers.pop(frame_id, None)) is not None:
            cancel()

    @callback
    def clear(self) -> None:
        """The connection ended: the next one sends everything again from the start."""
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()
        self._delays.clear()


def interrupted_result(action_id: str, at: datetime) -> dict[str, Any]:
    """The ``action_result`` payload of an action accepted but not finished."""
    return {"action_id": action_id, "ok": False, "error": ERROR_INTERRUPTED, "at": at.isoformat()}
