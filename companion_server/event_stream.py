"""The live-update stream of the portal's pages: Server-Sent Events fed by the hub's notices."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from companion_server.app_keys import HUB
from companion_server.web import secure_headers

# The stream ends after two minutes: the browser reconnects, and the session (and what the
# page may see) is checked again.
LIFETIME_SECONDS = 120.0
# A comment line now and then keeps proxies from closing a quiet stream.
KEEPALIVE_SECONDS = 20.0


async def event_stream(request: web.Request, topic: int | str, data: str) -> web.StreamResponse:
    """Send ``event: changed`` with ``data`` whenever the hub notices a change of ``topic``."""
    hub = request.app[HUB]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    secure_headers(request, response)
    queue = hub.watch(topic)
    try:
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LIFETIME_SECONDS
        while (left := deadline - loop.time()) > 0:
            try:
                notice = await asyncio.wait_for(queue.get(), timeout=min(left, KEEPALIVE_SECONDS))
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if not notice:  # the hub is stopping
                break
            await response.write(f"event: changed\ndata: {data}\n\n".encode())
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        hub.unwatch(topic, queue)
    with contextlib.suppress(ConnectionError, RuntimeError):
        await response.write_eof()
    return response
