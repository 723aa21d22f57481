"""Pay in advance (D6), the company's side: issue the advance invoice, or override the rule.

Administrators issue invoices, so they issue the advance and decide an override; the
installation's banner tells installers where the advance stands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from companion_server.installations.services import visible_installation
from companion_server.invoicing import advances
from companion_server.invoicing.pricing import HOUR_CENTS, TRIP_CENTS
from companion_server.invoicing.rendering import form_page, form_post
from companion_server.invoicing.store import store_of
from companion_server.team.services import fresh_actor
from companion_server.web import (
    admin_required,
    core_of,
    current_user,
    int_param,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

routes = web.RouteTableDef()
BASE = r"/installations/{installation_id:\d+}/advance"


async def _advance(db: AsyncSession, request: web.Request) -> dict[str, Any]:
    actor = await fresh_actor(db, current_user(request).id, admin=True)
    installation = await visible_installation(db, actor, int_param(request, "installation_id"))
    gate = await advances.gate(db, installation, core_of(request).now())
    customer = await advances.customer_of(db, installation.id)
    known = await advances.address_of(db, customer.id) if customer else {}
    return {
        "installation": installation,
        "gate": gate,
        "customer": customer,
        "values": known,  # the form starts from the address the customer gave already
        "hour_cents": HOUR_CENTS,
        "trip_cents": TRIP_CENTS,
    }


_page = form_page("invoicing/advance.html", _advance)


@routes.get(BASE, allow_head=False)
@admin_required
async def advance_page(request: web.Request) -> web.StreamResponse:
    """Where the installation's advance stands; the form to issue it, or to override."""
    return await _page(request)


@routes.post(BASE)
@admin_required
async def issue_advance(request: web.Request) -> web.StreamResponse:
    """Issue the advance invoice for the estimate and e-mail the customer the link."""
    core = core_of(request)
    installation_id = int_param(request, "installation_id")

    async def act(values: dict[str, str]) -> str:
        await advances.issue_advance(
            core, current_user(request).id, installation_id, values, store_of(core)
        )
        return f"/installations/{installation_id}/advance"

    return await form_post(request, act, _page, "advance_issued")


@routes.post(BASE + "/override")
@admin_required
async def override(request: web.Request) -> web.StreamResponse:
    """Start the work before the advance is paid (the reason is kept)."""
    installation_id = int_param(request, "installation_id")

    async def act(values: dict[str, str]) -> str:
        await advances.override(
            core_of(request), current_user(request).id, installation_id, values.get("reason", "")
        )
        return f"/installations/{installation_id}"

    return await form_post(request, act, _page, "advance_overridden")
