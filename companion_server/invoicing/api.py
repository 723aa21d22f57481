"""The card provider's webhook: verified by signature, each event processed once."""

from __future__ import annotations

from aiohttp import web

from companion_server.invoicing.payments.card import WebhookRefused, process_event
from companion_server.invoicing.payments.registry import card_provider
from companion_server.web import core_of

routes = web.RouteTableDef()
MAX_BODY = 64 * 1024


@routes.post("/api/payments/stripe/webhook")
async def stripe_webhook(request: web.Request) -> web.StreamResponse:
    """Stripe's events: 400 when not signed by Stripe, 200 once applied or known."""
    core = core_of(request)
    provider = card_provider(core)
    if provider is None:
        raise web.HTTPNotFound()
    if (request.content_length or 0) > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BODY, actual_size=request.content_length or 0
        )
    payload = await request.read()
    try:
        event = provider.verify(payload, request.headers.get("Stripe-Signature"))
    except WebhookRefused:
        return web.json_response({"error": "invalid signature"}, status=400)
    async with core.tx() as db:
        new = await process_event(db, event, core.now())
    return web.json_response({"received": True, "duplicate": not new})
