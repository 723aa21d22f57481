"""The inbound SMTP endpoint (aiosmtpd) a relay forwards the support addresses to.

It runs in the portal's own event loop, started and stopped with the app. A message too
large gets aiosmtpd's 552, one that cannot be read a 550: neither changes anything. Any
other message is answered 250 once taken in (a refusal is explained by a reply mail, not by
the SMTP answer); a failure of the portal answers 451, so the relay delivers it again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP

from companion_server.app_keys import CORE, INBOUND_SMTP_PORT
from companion_server.tickets.inbound.intake import take_in
from companion_server.tickets.inbound.message import Malformed, read

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import web

    from companion_server.core import Core

LOGGER = logging.getLogger(__name__)
# Time an idle SMTP session is kept open.
SESSION_TIMEOUT = 60.0


class Handler:
    """aiosmtpd's handler: every message of every session goes to the intake."""

    def __init__(self, core: Core) -> None:
        """Take messages in for the portal of ``core``."""
        self.core = core

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Answer one message's DATA."""
        raw = envelope.original_content or envelope.content or b""
        try:
            incoming = read(bytes(raw), envelope.mail_from)
        except Malformed as err:
            return f"550 5.6.0 {err}"
        try:
            outcome = await take_in(self.core, incoming)
        except Exception:
            LOGGER.exception("Inbound message from %s not taken in", incoming.sender)
            return "451 4.3.0 Temporary failure, try again later"
        LOGGER.info("Inbound message from %s: %s", incoming.sender, outcome.value)
        return "250 2.0.0 OK"


async def inbound_context(app: web.Application) -> AsyncIterator[None]:
    """Listen for mail while the app runs (a cleanup context)."""
    core = app[CORE]
    settings = core.settings
    loop = asyncio.get_running_loop()
    handler = Handler(core)

    def session() -> SMTP:
        return SMTP(
            handler,
            data_size_limit=settings.inbound_mail_max_bytes,
            enable_SMTPUTF8=True,
            timeout=SESSION_TIMEOUT,
            loop=loop,
        )

    server = await loop.create_server(
        session, settings.inbound_smtp_host, settings.inbound_smtp_port
    )
    app[INBOUND_SMTP_PORT] = server.sockets[0].getsockname()[1]
    LOGGER.info(
        "Tickets by e-mail: SMTP on %s:%s", settings.inbound_smtp_host, app[INBOUND_SMTP_PORT]
    )
    try:
        yield
    finally:
        server.close()
        server.close_clients()
        await server.wait_closed()
