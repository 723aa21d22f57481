"""Delivery guarantees of the portal channel, Home Assistant side.

- Frames kept until acknowledged are sent again when no acknowledgement comes in time,
  on the live connection too (the portal may have failed to store one, e.g. its database
  was busy): after ``ACK_TIMEOUT``, then twice as long each time, up to ``ACK_TIMEOUT_MAX``.
- An acknowledgement the portal answers ``internal_error`` (it failed to record it, e.g. its
  database was busy) is sent again, up to ``ACK_RETRIES`` times: the portal sends a frame
  once per connection, so a lost acknowledgement would leave it unacknowledged there until
  the next reconnection.
- An installer's action is written down as accepted before Home Assistant acknowledges
  it; if Home Assistant stops before the action's result is kept for the portal, the next
  start reports it ``interrupted``, so that every accepted action ends with a result.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Final
import uuid

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from . import portal_frames as frames
from .alerts import BOX_KEY
from .const import LOGGER

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from datetime import datetime

    from .alerts import AlertChange
    from .portal_store import PortalStore, StoredPortal

ACK_TIMEOUT: Final = 10.0
ACK_TIMEOUT_MAX: Final = 300.0
# Ids of the acknowledged frames received lately: one received again is not handled twice.
SEEN_IDS: Final = 1000
# Acknowledgements sent lately (ack frame id -> the frame it acknowledges, tries so far).
ACKS_KEPT: Final = 1000
ACK_RETRIES: Final = 5
# The portal's answer to a frame it could not handle (its database busy, a failure).
ERROR_INTERNAL: Final = "internal_error"
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


class Outbox:
    """Frames kept until the portal acknowledges them, ids received, actions under way.

    The outbox, the ids and the actions are written in the portal's store; ``live`` is on
    while the portal welcomed the current connection: frames posted then go out at once.
    """

    def __init__(
        self, hass: HomeAssistant, store: PortalStore, send: Callable[[dict[str, Any]], None]
    ) -> None:
        """``send(frame)`` sends on the current connection, if any."""
        self._store = store
        self._send = send
        self.frames: list[dict[str, Any]] = []
        self.seen: deque[str] = deque(maxlen=SEEN_IDS)
        # Actions acknowledged and not finished: action_id -> kind.
        self.running: dict[str, str] = {}
        self.live = False
        self._acks = AckTimers(hass, self._async_resend)
        self._acks_sent: dict[str, tuple[str, int]] = {}
        store.add_part(self._stored)

    @callback
    def async_restore(self, stored: StoredPortal) -> None:
        """Take the stored outbox, ids and actions."""
        self.frames = [f for f in stored.get("outbox", []) if isinstance(f, dict)]
        self.seen.extend(str(i) for i in stored.get("seen", []))
        self.running = dict(stored.get("running") or {})

    def _stored(self) -> StoredPortal:
        return {"outbox": list(self.frames), "seen": list(self.seen), "running": dict(self.running)}

    @callback
    def async_reset(self) -> None:
        """The link was made or forgotten: nothing is kept."""
        self.frames = []
        self.running = {}
        self._acks.clear()
        self.seen.clear()

    @callback
    def async_connection_lost(self) -> None:
        """The connection ended: the next one sends everything again from the start."""
        self.live = False
        self._acks.clear()
        self._acks_sent.clear()

    @callback
    def async_post(self, frame: dict[str, Any]) -> None:
        """Keep ``frame`` until it is acknowledged; send it now when live."""
        self.frames.append(frame)
        self._store.async_schedule_save()
        if self.live:
            self._send_acked(frame)

    @callback
    def async_send_all(self) -> None:
        """Send every frame kept (the portal welcomed a new connection)."""
        for frame in list(self.frames):
            self._send_acked(frame)

    @callback
    def async_acked(self, frame_id: str) -> None:
        """The portal acknowledged ``frame_id``: forget it."""
        self._acks.acked(frame_id)
        before = len(self.frames)
        self.frames = [f for f in self.frames if f["id"] != frame_id]
        if len(self.frames) != before:
            self._store.async_schedule_save()

    @callback
    def async_ack(self, frame_id: str, tries: int = 1) -> None:
        """Acknowledge a frame received from the portal."""
        ack = frames.new_frame(frames.ACK, {"id": frame_id})
        self._acks_sent[ack["id"]] = (frame_id, tries)
        if len(self._acks_sent) > ACKS_KEPT:
            del self._acks_sent[next(iter(self._acks_sent))]
        self._send(ack)

    @callback
    def async_refused(self, ref: object, code: str) -> None:
        """The portal answered ``error`` to our frame ``ref``: an ack it lost goes again."""
        sent = self._acks_sent.pop(ref, None) if isinstance(ref, str) else None
        if sent is None or code != ERROR_INTERNAL:
            return
        frame_id, tries = sent
        if tries > ACK_RETRIES:
            LOGGER.warning("The portal failed to record the acknowledgement of %s", frame_id)
            return
        LOGGER.debug("The portal failed to record the acknowledgement of %s: sent again", frame_id)
        self.async_ack(frame_id, tries + 1)

    @callback
    def async_drop(self, frame_type: str) -> None:
        """Forget the frames of a type still waiting (they are never sent)."""
        self.frames = [f for f in self.frames if f["type"] != frame_type]

    @callback
    def async_received(self, frame_id: str) -> bool:
        """Note an acknowledged frame received; False when it was received before."""
        if frame_id in self.seen:
            return False
        self.seen.append(frame_id)
        self._store.async_schedule_save()
        return True

    async def async_accept_action(self, payload: dict[str, Any]) -> None:
        """Write the action down before acknowledging it."""
        action_id = payload.get("action_id")
        if isinstance(action_id, str) and action_id:
            self.running[action_id] = str(payload.get("kind"))[:64]
            await self._store.async_save()

    def _send_acked(self, frame: dict[str, Any]) -> None:
        """Send a kept frame; sent again if its acknowledgement is late."""
        self._send(frame)
        self._acks.sent(frame)

    @callback
    def _async_resend(self, frame: dict[str, Any]) -> None:
        if self.live and any(f["id"] == frame["id"] for f in self.frames):
            LOGGER.debug("No acknowledgement of %s %s yet: sent again", frame["type"], frame["id"])
            self._send_acked(frame)


def occurrence_id(ids: dict[str, str], change: AlertChange) -> str:
    """One id per occurrence of an alert: the alert raised and the same alert cleared share it.

    ``ids`` holds the raised ones (device key|alert -> id), kept with the entry's portal data.
    """
    key = f"{change.device_key}|{change.alert}"
    if change.active:
        ids[key] = str(uuid.uuid4())
        return ids[key]
    return ids.pop(key, "") or str(uuid.uuid4())


def device_url(device_key: str) -> str | None:
    """The product an alert frame names; None for the box itself."""
    return None if device_key == BOX_KEY else frames.fit("url", device_key)


def withdraw(outbox: Outbox, frame_type: str, ids: dict[str, str]) -> None:
    """Consent ended: frames of ``frame_type`` still waiting go nowhere, occurrences restart."""
    outbox.async_drop(frame_type)
    ids.clear()
