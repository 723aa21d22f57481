"""The Home Assistant API of linking (``docs/protocol.md``): link and unlink.

JSON in, JSON out; no cookies and no CSRF token (the visitor and CSRF middlewares skip
``/api/``): the link endpoint is protected by the code, the PIN and rate limits, unlink by
the installation's bearer token.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from companion_server.errors import RateLimited
from companion_server.hub.auth import bearer
from companion_server.registration import linking
from companion_server.web import core_of

routes = web.RouteTableDef()


def _json(status: int, body: dict[str, Any], **headers: str) -> web.Response:
    return web.json_response(body, status=status, headers=headers or None)


def _client_ip(request: web.Request) -> str:
    return request.remote or "unknown"


@routes.post("/api/v1/link")
async def link(request: web.Request) -> web.StreamResponse:
    """Exchange a validation code and the box PIN for an installation token."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _json(400, {"error": "invalid_request"})
    if not isinstance(body, dict):
        return _json(400, {"error": "invalid_request"})
    fields = {k: body.get(k) for k in ("code", "pin", "instance_id", "name")}
    if not all(isinstance(fields[k], str) for k in ("code", "pin")):
        return _json(400, {"error": "invalid_request"})
    for key in ("instance_id", "name"):
        if not isinstance(fields[key], str):
            fields[key] = ""
    try:
        result = await linking.link(
            core_of(request),
            code=str(fields["code"])[:100],
            pin=str(fields["pin"])[:40],
            instance_id=str(fields["instance_id"]),
            name=str(fields["name"]),
            ip=_client_ip(request),
        )
    except linking.LinkRefused:
        return _json(400, {"error": "invalid_code"})
    except RateLimited as err:
        return _json(429, {"error": "rate_limited"}, **{"Retry-After": str(err.retry_after)})
    return _json(
        200,
        {
            "installation_id": result.installation_id,
            "token": result.token,
            "company": {"id": result.company_id, "name": result.company_name},
        },
    )


@routes.post("/api/v1/unlink")
async def unlink(request: web.Request) -> web.StreamResponse:
    """Home Assistant forgets the link; the token stops working at once."""
    installation_id = await linking.unlink_by_token(core_of(request), bearer(request))
    if installation_id is None:
        return _json(401, {"error": "invalid_token"}, **{"WWW-Authenticate": "Bearer"})
    return web.Response(status=204)
