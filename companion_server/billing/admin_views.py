"""The administrator's pages: the catalogue (prices, offered or not, VAT) and the handovers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from companion_server.billing import admin
from companion_server.billing.catalogue import Group, ItemChange
from companion_server.billing.money import euros, percent
from companion_server.errors import ValidationFailed
from companion_server.parsing import parse_id
from companion_server.web import (
    admin_required,
    core_of,
    current_user,
    form_data,
    int_param,
    redirect,
    render,
    visitor,
)

routes = web.RouteTableDef()


def _amount(cents: int) -> str:
    """A price as the form shows it: 19.90."""
    return f"{cents // 100}.{cents % 100:02d}"


async def _catalogue(
    request: web.Request,
    errors: dict[str, str] | None = None,
    failed: str | None = None,
    status: int = 200,
) -> web.Response:
    page = await admin.catalogue_page(core_of(request), current_user(request).id)
    language = visitor(request).language
    context: dict[str, Any] = {
        "page": page,
        "groups": Group,
        "errors": errors or {},
        "failed": failed,
        "saved": request.query.get("saved", ""),
        "amount": _amount,
        "money": lambda cents: euros(cents, language),
        "percent": lambda points: percent(points, language),
    }
    return render(request, "billing/catalogue.html", context, status)


@routes.get("/billing/catalogue", allow_head=False)
@admin_required
async def catalogue_page(request: web.Request) -> web.StreamResponse:
    """The company's services and support plans, with their prices."""
    return await _catalogue(request)


@routes.post("/billing/catalogue/profile")
@admin_required
async def save_profile(request: web.Request) -> web.StreamResponse:
    """Set the VAT rate and the billing time zone."""
    data = await form_data(request)
    try:
        await admin.update_profile(
            core_of(request),
            current_user(request).id,
            data.get("vat", ""),
            data.get("time_zone", ""),
        )
    except ValidationFailed as err:
        return await _catalogue(request, err.errors, "profile", 400)
    return redirect("/billing/catalogue?saved=profile")


@routes.post("/billing/catalogue/items/{code}")
@admin_required
async def save_item(request: web.Request) -> web.StreamResponse:
    """Set one item's price, whether it is offered, a plan's discount and priority."""
    code = request.match_info["code"]
    data = await form_data(request)
    change = ItemChange(
        price=data.get("price", ""),
        active=data.get("active") == "on",
        discount=data.get("discount", "0"),
        priority=data.get("priority", "0"),
    )
    try:
        await admin.update_item(core_of(request), current_user(request).id, code, change)
    except ValidationFailed as err:
        return await _catalogue(request, err.errors, code, 400)
    return redirect(f"/billing/catalogue?saved={code}")


async def _handovers(
    request: web.Request,
    errors: dict[str, str] | None = None,
    failed: int | None = None,
    status: int = 200,
) -> web.Response:
    after = request.query.get("after") or None
    found = await admin.handover_rows(core_of(request), current_user(request).id, after)
    return render(
        request,
        "billing/handovers.html",
        {
            "rows": found.rows,
            "after": after,
            "next_after": found.next_after,
            "errors": errors or {},
            "failed": failed,
        },
        status,
    )


@routes.get("/billing/handovers", allow_head=False)
@admin_required
async def handovers(request: web.Request) -> web.StreamResponse:
    """The signed handover protocols of the company's installations (D7)."""
    return await _handovers(request)


@routes.post("/billing/handovers/{installation_id}")
@admin_required
async def save_handover(request: web.Request) -> web.StreamResponse:
    """Record when an installation's handover protocol was signed, and which document it is."""
    installation_id = int_param(request, "installation_id")
    data = await form_data(request)
    try:
        await admin.record_handover(
            core_of(request),
            current_user(request).id,
            installation_id,
            data.get("signed_on", ""),
            parse_id(data.get("document_id")),
        )
    except ValidationFailed as err:
        return await _handovers(request, err.errors, installation_id, 400)
    return redirect("/billing/handovers")
