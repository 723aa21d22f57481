"""The Home Assistant API of customer accounts (``docs/protocol.md``): ask for an invitation.

Authenticated with the installation's bearer token, like the channel: only the box's own
Home Assistant can ask, and the invitation goes to the address the box was linked with.
"""

from __future__ import annotations

from aiohttp import web

from companion_server.customers.invitations import InviteOutcome, invite_customer
from companion_server.errors import RateLimited
from companion_server.hub.auth import authenticate, bearer
from companion_server.web import core_of

routes = web.RouteTableDef()

REFUSALS = {InviteOutcome.NO_ADDRESS: 409, InviteOutcome.STAFF_ADDRESS: 409}


@routes.post("/api/v1/customer-invitation")
async def customer_invitation(request: web.Request) -> web.StreamResponse:
    """E-mail the link's address an invitation to a customer account."""
    core = core_of(request)
    link = await authenticate(core, bearer(request))
    if link is None:
        return web.json_response(
            {"error": "invalid_token"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        outcome = await invite_customer(core, link.installation_id)
    except RateLimited as err:
        return web.json_response(
            {"error": "rate_limited"}, status=429, headers={"Retry-After": str(err.retry_after)}
        )
    if outcome in REFUSALS:
        return web.json_response({"error": outcome.value}, status=REFUSALS[outcome])
    return web.json_response({"result": outcome.value}, status=202)
