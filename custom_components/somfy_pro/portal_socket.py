"""The portal's WebSocket: opening it, writing frames in order, waiting between attempts."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
import random
from typing import TYPE_CHECKING, Any, Final

from aiohttp import ClientError, WSServerHandshakeError
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from . import portal_frames as frames
from .const import LOGGER
from .portal_client import PortalAuthError

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from aiohttp import ClientSession, ClientWebSocketResponse

    from .portal_client import PortalLink

CONNECT_TIMEOUT: Final = 30
HEARTBEAT: Final = 30.0
# Larger messages close the connection (aiohttp); those over 64 KiB are answered `error`.
MAX_MESSAGE_BYTES: Final = 1024 * 1024
# A busy portal's ``Retry-After`` is honoured up to this many seconds.
MAX_RETRY_AFTER: Final = 600


class PortalBusyError(ClientError):
    """The portal refused the connection for now (503) and said when to come back."""

    def __init__(self, retry_after: float) -> None:
        """``retry_after``: the seconds the portal asked for."""
        super().__init__(f"portal busy, retry after {retry_after:g} s")
        self.retry_after = retry_after

    def delay(self) -> float:
        """The wait before the next attempt: the portal's hint, plus up to a second of jitter.

        The portal books each refused connection its own slot, so the hints themselves are
        spread; the jitter only spreads the connections told the same whole second across
        it. More would leave the portal idle at the end of a storm while the last ones
        wait out jitter their slots never needed.
        """
        return self.retry_after + random.uniform(0, 1.0)


def _retry_after(headers: Any) -> float | None:
    """Seconds of a ``Retry-After`` header (delta-seconds form), None when absent or bad."""
    try:
        seconds = float((headers or {}).get("Retry-After", ""))
    except ValueError:
        return None
    return min(float(MAX_RETRY_AFTER), seconds) if seconds >= 0 else None


async def async_open(session: ClientSession, link: PortalLink) -> ClientWebSocketResponse:
    """Open the channel's WebSocket; PortalAuthError when the portal refuses the token."""
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            return await session.ws_connect(
                f"{link.url}/api/v1/ws",
                headers={"Authorization": f"Bearer {link.token}"},
                heartbeat=HEARTBEAT,
                max_msg_size=MAX_MESSAGE_BYTES,
            )
    except WSServerHandshakeError as err:
        if err.status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            raise PortalAuthError(str(err)) from err
        if err.status == HTTPStatus.SERVICE_UNAVAILABLE:
            retry_after = _retry_after(err.headers)
            if retry_after is not None:
                raise PortalBusyError(retry_after) from err
        raise


async def async_write(ws: ClientWebSocketResponse, queue: asyncio.Queue[Any]) -> None:
    """Send the queued frames in order; close the connection when sending fails."""
    try:
        while True:
            frame = await queue.get()
            await ws.send_str(frames.encode(frame))
    except (ClientError, ConnectionError, RuntimeError) as err:
        LOGGER.debug("Cannot send to the portal: %s", err)
        await ws.close()


async def async_sleep(hass: HomeAssistant, seconds: float) -> None:
    """Sleep on Home Assistant's clock (so that tests can move time on)."""
    wake = asyncio.Event()

    @callback
    def _wake(_now: datetime) -> None:
        wake.set()

    cancel = async_call_later(hass, seconds, _wake)
    try:
        await wake.wait()
    finally:
        cancel()
