"""The monitoring centre's console pages (filled in by the console slice)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
