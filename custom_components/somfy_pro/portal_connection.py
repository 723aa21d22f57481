"""The WebSocket to the installer portal, kept up while the box is linked.

One connection at a time, reconnected with exponential backoff and jitter; the portal
refusing the token, or saying the box was unlinked, ends the link. What is sent and what
the frames received mean is the channel's (``portal_channel``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError, WSMsgType
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from . import portal_frames as frames, portal_socket as socket
from .const import DOMAIN, LOGGER
from .portal_client import PortalAuthError, PortalLink, backoff_delay

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from aiohttp import ClientSession, ClientWebSocketResponse
    from homeassistant.config_entries import ConfigEntry


class PortalConnection(ABC):
    """The connection of one entry to its installer's portal, and its state for entities."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], session: ClientSession
    ) -> None:
        """Not connected; ``_async_start_channel`` opens the connection when linked."""
        self._hass = hass
        self._entry = entry
        self._session = session
        self.connected = False
        self.since: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientWebSocketResponse | None = None
        self._queue: asyncio.Queue[dict[str, Any]] | None = None
        self._unlinked = False  # the portal said "unlinked"
        self._listeners: list[CALLBACK_TYPE] = []
        self.attempt = 0

    # -- what the channel does with the connection ---------------------------------------------

    @abstractmethod
    def _hello_frame(self) -> dict[str, Any]:
        """The first frame of every connection."""

    @abstractmethod
    async def _async_on_text(self, text: str) -> None:
        """A text message from the portal."""

    @abstractmethod
    def _connection_lost(self) -> None:
        """The connection ended (or never opened)."""

    @abstractmethod
    async def _async_forget(self) -> None:
        """Forget the link: the portal no longer knows this box."""

    # -- state ---------------------------------------------------------------------------

    @property
    def link(self) -> PortalLink | None:
        """The link stored in the entry, or None."""
        return PortalLink.from_entry(self._entry)

    @property
    def company_name(self) -> str | None:
        """Name of the linked installer company."""
        link = self.link
        return None if link is None else link.company_name

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` when the link, the connection or the consent changes."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    @callback
    def async_notify(self) -> None:
        """Tell the listeners that the link, the connection or the consent changed."""
        for listener in list(self._listeners):
            listener()

    @callback
    def _set_connected(self, connected: bool) -> None:
        if connected == self.connected and (self.since is not None or self.link is None):
            return
        self.connected = connected
        self.since = dt_util.utcnow()
        self.async_notify()

    # -- the connection ----------------------------------------------------------------------

    @callback
    def _async_start_channel(self) -> None:
        if self.link is None or self._task is not None:
            return
        self.attempt = 0
        # Not one of Home Assistant's tracked tasks, nor a background one: it never ends by
        # itself, and ``async_block_till_done`` (even waiting for background tasks) must not
        # wait for it. Cancelled on unload and closed on EVENT_HOMEASSISTANT_STOP.
        self._task = self._hass.loop.create_task(
            self._async_run(), name=f"{DOMAIN} portal channel {self._entry.title}"
        )

    async def _async_stop_channel(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if (current := asyncio.current_task()) is not None and current.cancelling():
                    raise
        if self._ws is not None:
            await self._ws.close()
        self._set_connected(False)

    def send(self, frame: dict[str, Any]) -> None:
        """Send now if connected (frames not acknowledged are lost when not)."""
        if self._queue is not None:
            self._queue.put_nowait(frame)

    async def _async_run(self) -> None:
        """Keep the channel up: reconnect with exponential backoff and jitter."""
        while (link := self.link) is not None:
            retry: float | None = None
            try:
                await self._async_connect(link)
            except PortalAuthError:
                LOGGER.warning(
                    "The portal of %s no longer accepts this box: the link is forgotten",
                    link.company_name,
                )
                self._task = None
                await self._async_forget()
                return
            except socket.PortalBusyError as busy:
                # The portal is alive and said when to come back: its hint, not the backoff.
                LOGGER.debug("The portal is busy: %s", busy)
                retry = busy.delay()
            except (ClientError, TimeoutError, OSError) as err:
                log = LOGGER.warning if self.attempt == 0 else LOGGER.debug
                log("Cannot connect to the installer portal: %s", err or type(err).__name__)
            finally:
                self._connection_lost()
                self._queue = None
                self._ws = None
                self._set_connected(False)
            if self._unlinked:
                self._unlinked = False
                self._task = None
                await self._async_forget()
                return
            if self.link is None:
                return
            if retry is not None:
                delay = retry
            else:
                delay = backoff_delay(self.attempt)
                self.attempt += 1
            LOGGER.debug("Reconnecting to the portal in %.1f s", delay)
            await socket.async_sleep(self._hass, delay)

    async def _async_connect(self, link: PortalLink) -> None:
        """One connection, until it closes."""
        ws = await socket.async_open(self._session, link)
        self._ws = ws
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queue = queue
        writer = self._hass.loop.create_task(
            socket.async_write(ws, queue), name=f"{DOMAIN} portal writer"
        )
        try:
            self.send(self._hello_frame())
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._async_on_text(str(message.data))
                elif message.type is WSMsgType.BINARY:
                    self._answer_error(frames.FrameError(frames.ERROR_MALFORMED, "binary message"))
                else:  # WSMsgType.ERROR: the connection is broken
                    LOGGER.debug("Portal connection error: %s", ws.exception())
                    break
                if self._unlinked:
                    break
        finally:
            writer.cancel()
            await asyncio.wait([writer])
            await ws.close()
        LOGGER.debug("Portal connection closed (code %s)", ws.close_code)

    def _answer_error(self, err: frames.FrameError) -> None:
        LOGGER.warning("Rejected a frame from the portal: %s (%s)", err.message, err.code)
        self.send(frames.error_frame(err.code, err.message, err.ref))
