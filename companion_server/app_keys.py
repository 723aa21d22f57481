"""Every typed key of the aiohttp application, in one leaf module.

Views, the hub's routes and the app factory all read the app through these keys; holding them
here (importing the app's types only for type checking) lets every module import them at the
top, whatever it sits above.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from companion_server.core import Core
    from companion_server.hub.dispatch import FrameRegistry
    from companion_server.hub.hub import Hub

CORE: web.AppKey[Core] = web.AppKey("core")
HUB: web.AppKey[Hub] = web.AppKey("hub")
FRAMES: web.AppKey[FrameRegistry] = web.AppKey("frames")
MAIL_WORKER: web.AppKey[asyncio.Task[None]] = web.AppKey("mail_worker", asyncio.Task)
RETENTION_JOB: web.AppKey[asyncio.Task[None]] = web.AppKey("retention_job", asyncio.Task)
CENTRE_TIMER: web.AppKey[asyncio.Task[None]] = web.AppKey("centre_timer", asyncio.Task)
SIA_WORKER: web.AppKey[asyncio.Task[None]] = web.AppKey("sia_worker", asyncio.Task)
# Whether Leaflet's files are there to draw maps (``settings.leaflet_dir``).
LEAFLET: web.AppKey[bool] = web.AppKey("leaflet", bool)
# The port the inbound SMTP endpoint (tickets by e-mail) listens on, once started.
INBOUND_SMTP_PORT: web.AppKey[int] = web.AppKey("inbound_smtp_port", int)
