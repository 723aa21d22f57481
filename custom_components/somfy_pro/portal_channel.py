"""The channel to the installer portal: the outbox, acknowledgements, frames received, linking.

Home Assistant is the homeowner's agent (docs/architecture.md): it opens one WebSocket to the
portal per linked box and keeps every acknowledged frame it sends (alerts, consent, windows,
action results) in its storage until the portal acknowledges it, across reconnections and
restarts. What the frames mean is not decided here: the monitoring and the installer actions
register handlers for the frame types they own, and post their own frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from . import portal_delivery as delivery, portal_frames as frames
from .const import LOGGER
from .portal_client import (
    PortalError,
    PortalLink,
    async_unlink,
    entry_data_with_link,
    normalize_url,
)
from .portal_connection import PortalConnection

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Awaitable, Callable, Iterable

    from aiohttp import ClientSession
    from homeassistant.config_entries import ConfigEntry

    from .portal_client import LinkResult
    from .portal_store import PortalStore, StoredPortal

# A handler of the frames of some types: ``(type, payload)`` -> a frame to post, or None.
# It raises ValueError for a payload it refuses (answered with an ``error`` frame).
type FrameHandler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any] | None]]


class PortalChannel(PortalConnection):
    """One entry's link to an installer portal: the outbox, the acks and what is received."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        session: ClientSession,
        store: PortalStore,
        integration_version: str,
        outgoing_signal: str,
    ) -> None:
        """Prepare; ``async_restore`` then ``async_start`` bring it up.

        ``outgoing_signal``: the dispatcher signal carrying ``(frame_type, payload)`` of
        frames others hand to the portal (kept in the outbox until acknowledged).
        """
        super().__init__(hass, entry, session)
        self._store = store
        self._version = integration_version
        self._outgoing_signal = outgoing_signal
        self.delivery = delivery.Outbox(hass, store, self.send)
        self._handlers: dict[str, FrameHandler] = {}
        self._hello: Callable[[], dict[str, Any]] = dict
        self._on_ready: list[Callable[[], None]] = []
        self._on_reset: list[Callable[[], None]] = []
        self._on_refused: list[Callable[[str, str], None]] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        # The digest of the snapshot the portal said it holds when it welcomed the current
        # connection (None: none, or a portal that does not say).
        self.held_snapshot: str | None = None

    # -- state ---------------------------------------------------------------------------

    @property
    def outbox(self) -> list[dict[str, Any]]:
        """The frames kept until the portal acknowledges them."""
        return self.delivery.frames

    @property
    def ready(self) -> bool:
        """The portal welcomed the current connection."""
        return self.delivery.live

    # -- what others plug in ---------------------------------------------------------------

    def register(self, frame_types: Iterable[str], handler: FrameHandler) -> None:
        """``handler`` takes the frames of these types from the portal."""
        for frame_type in frame_types:
            self._handlers[frame_type] = handler

    def set_hello(self, hello: Callable[[], dict[str, Any]]) -> None:
        """``hello()`` gives the ``hello`` frame's fields besides the integration version."""
        self._hello = hello

    def on_ready(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` once the portal welcomed a connection (the outbox was resent)."""
        self._on_ready.append(listener)

    def on_refused(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(ref, code)`` when the portal answers one of our frames ``error``."""
        self._on_refused.append(listener)

    def on_reset(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` when the link is made or forgotten (its state starts afresh)."""
        self._on_reset.append(listener)

    @callback
    def async_restore(self, stored: StoredPortal | None) -> None:
        """Take the outbox, the ids already received and the actions under way."""
        if stored is not None and self.link is not None:
            self.delivery.async_restore(stored)

    # -- life cycle ------------------------------------------------------------------------

    @callback
    def async_start(
        self,
        held: list[tuple[str, dict[str, Any]]],
        interrupted: Callable[[str, str], dict[str, Any]],
    ) -> None:
        """Take the frames others hand over, and open the channel when linked.

        ``held``: frames from before this, e.g. a window that expired while Home Assistant
        was stopped. ``interrupted(action_id, kind)``: the ``action_result`` payload of an
        action accepted before Home Assistant stopped.
        """
        self._unsubs.append(
            async_dispatcher_connect(self._hass, self._outgoing_signal, self.async_post_outgoing)
        )
        self._unsubs.append(
            self._hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_on_hass_stop)
        )
        for frame_type, payload in held:
            self.async_post_outgoing(frame_type, payload)
        if self.link is not None:
            self._set_connected(False)  # disconnected since now
            # Actions accepted before Home Assistant stopped end ``interrupted``.
            running, self.delivery.running = self.delivery.running, {}
            for action_id, kind in running.items():
                self.post(frames.new_frame(frames.ACTION_RESULT, interrupted(action_id, kind)))
        self._async_start_channel()

    async def _async_on_hass_stop(self, _event: Event) -> None:
        await self._async_stop_channel()

    async def async_stop(self) -> None:
        """Close the channel and write the outbox (unload)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        await self._async_stop_channel()
        await self._store.async_save()

    # -- linking ---------------------------------------------------------------------------

    async def async_set_link(self, result: LinkResult, url: str, instance_id: str) -> None:
        """Store a new link (no consent, empty outbox) and open the channel."""
        await self._async_stop_channel()
        self._reset()
        link = PortalLink(
            url=normalize_url(url),
            token=result.token,
            installation_id=result.installation_id,
            company_id=result.company_id,
            company_name=result.company_name,
            instance_id=instance_id,
        )
        self._hass.config_entries.async_update_entry(
            self._entry, data=entry_data_with_link(self._entry.data, link)
        )
        await self._store.async_save()
        LOGGER.info("Linked to the installer %s", result.company_name)
        self.async_notify()
        self._async_start_channel()

    async def async_unlink(self) -> None:
        """Unlink from the homeowner's side: tell the portal if it answers, forget anyway."""
        link = self.link
        if link is None:
            return
        try:
            await async_unlink(self._session, link.url, link.token)
        except PortalError as err:
            LOGGER.warning(
                "The portal could not be told about the unlink (%s); forgetting the link", err
            )
        await self._async_forget()

    async def _async_forget(self) -> None:
        """Forget the link, its consent and outbox."""
        company = self.company_name
        await self._async_stop_channel()
        self._reset()
        self._hass.config_entries.async_update_entry(
            self._entry, data=entry_data_with_link(self._entry.data, None)
        )
        await self._store.async_save()
        self.since = None
        LOGGER.info("Unlinked from the installer %s", company)
        self.async_notify()

    def _reset(self) -> None:
        self.delivery.async_reset()
        for listener in self._on_reset:
            listener()

    # -- sending -----------------------------------------------------------------------------

    def post(self, frame: dict[str, Any]) -> None:
        """An acknowledged frame: kept in the outbox until the portal acknowledges it."""
        self.delivery.async_post(frame)

    @callback
    def async_post_outgoing(self, frame_type: str, payload: dict[str, Any]) -> None:
        """A frame handed over for the portal (``window``), kept until acknowledged."""
        if self.link is not None:
            self.post(frames.new_frame(frame_type, payload))

    # -- the connection ----------------------------------------------------------------------

    def _hello_frame(self) -> dict[str, Any]:
        return frames.new_frame(
            frames.HELLO, {"integration_version": self._version, **self._hello()}
        )

    def _connection_lost(self) -> None:
        self.delivery.async_connection_lost()

    # -- receiving ---------------------------------------------------------------------------

    async def _async_on_text(self, text: str) -> None:
        """Parse the frame; the malformed are answered ``error``."""
        try:
            frame = frames.parse(text)
        except frames.FrameError as err:
            self._answer_error(err)
            return
        await self._async_on_frame(frame)

    async def _async_on_frame(self, frame: dict[str, Any]) -> None:
        frame_type: str = frame["type"]
        payload: dict[str, Any] = frame["payload"]
        LOGGER.debug("Frame from the portal: %s %s", frame_type, frame["id"])
        if frame_type in frames.ACKED_TYPES:
            if frame_type == frames.ACTION and frame["id"] not in self.delivery.seen:
                await self.delivery.async_accept_action(payload)
            self.delivery.async_ack(frame["id"])
            if not self.delivery.async_received(frame["id"]):
                LOGGER.debug("Frame %s received again: acknowledged, ignored", frame["id"])
                return
        if frame_type == frames.WELCOME:
            await self._async_on_welcome(payload)
        elif frame_type == frames.ACK:
            self.delivery.async_acked(payload["id"])
        elif frame_type == frames.UNLINKED:
            LOGGER.info("The installer %s unlinked this box", self.company_name)
            self._unlinked = True  # forgotten once this connection is closed
        elif frame_type == frames.ERROR:
            LOGGER.warning(
                "The portal rejected frame %s: %s (%s)",
                payload.get("ref"),
                payload.get("message"),
                payload["code"],
            )
            ref = payload.get("ref")
            self.delivery.async_refused(ref, payload["code"])
            if isinstance(ref, str):
                for listener in self._on_refused:
                    listener(ref, payload["code"])
        else:
            await self._async_handle(frame)

    async def _async_handle(self, frame: dict[str, Any]) -> None:
        """A frame for a registered handler; the frame it answers with is posted."""
        handler = self._handlers.get(frame["type"])
        try:
            if handler is None:
                raise ValueError(f"no handler for {frame['type']} frames")
            reply = await handler(frame["type"], frame["payload"])
        except ValueError as err:
            self._answer_error(
                frames.FrameError(frames.ERROR_INVALID_PAYLOAD, str(err), frame["id"])
            )
            return
        if reply is not None:
            if reply["type"] == frames.ACTION_RESULT:
                self.delivery.running.pop(str(reply["payload"]["action_id"]), None)
            self.post(reply)

    async def _async_on_welcome(self, payload: dict[str, Any]) -> None:
        company = payload["company"]
        link = self.link
        if link is not None and (
            link.company_name != company["name"] or link.company_id != str(company["id"])
        ):
            self._hass.config_entries.async_update_entry(
                self._entry,
                data=entry_data_with_link(
                    self._entry.data, link.with_company(str(company["id"]), company["name"])
                ),
            )
        self.held_snapshot = payload["snapshot_digest"]
        self.delivery.live = True
        self.attempt = 0
        LOGGER.debug("Connected to the portal of %s", company["name"])
        self._set_connected(True)
        self.delivery.async_send_all()
        for listener in self._on_ready:
            listener()
        for pending in payload["pending"]:
            try:
                frame = frames.validate(pending)
            except frames.FrameError as err:
                self._answer_error(err)
                continue
            await self._async_on_frame(frame)

    def as_diagnostics(self) -> dict[str, Any]:
        """The connection and the outbox (the token is in the entry, redacted)."""
        return {
            "linked": self.link is not None,
            "connected": self.connected,
            "since": self.since.isoformat() if self.since else None,
            "outbox": [{"id": f["id"], "type": f["type"]} for f in self.outbox],
            "reconnect_attempt": self.attempt,
        }
