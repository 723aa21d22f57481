"""The customer's "My services" pages: subscribe (S2-S4), cancel (S5-S6, S10), reactivate (S7).

The cart travels in the address and is checked again at every step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from babel.dates import format_date

from companion_server.billing import cart as carts, services
from companion_server.billing.catalogue import MAX_CAMERAS, OFFER_BY_CODE, Group
from companion_server.billing.checkout import Address
from companion_server.billing.money import euros, percent
from companion_server.billing.subscriptions import CancelMode
from companion_server.errors import NotFound, ValidationFailed
from companion_server.parsing import parse_id
from companion_server.web import (
    core_of,
    current_user,
    customer_required,
    form_data,
    int_param,
    redirect,
    render,
    visitor,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

routes = web.RouteTableDef()
BASE = "/customer/services/{installation_id}"


def _context(request: web.Request, **values: Any) -> dict[str, Any]:
    language = visitor(request).language
    return {
        "money": lambda cents: euros(cents, language),
        "percent": lambda points: percent(points, language),
        "day": lambda value: format_date(value, "long", locale=language),
        "base": f"/customer/services/{request.match_info.get('installation_id', '')}",
        **values,
    }


def _cart(params: Mapping[str, str]) -> tuple[carts.CartItem, ...]:
    """The cart of the address, with the item just chosen (``add``, ``cameras``) added."""
    items = carts.parse(params.get("cart"))
    if items is None:
        raise NotFound()
    code = params.get("add")
    if code:
        offer = OFFER_BY_CODE.get(code)
        cameras = parse_id(params.get("cameras", "1")) or 0
        if offer is None or not offer.subscribable or not 1 <= cameras <= MAX_CAMERAS:
            raise NotFound()
        items = carts.with_item(items, carts.CartItem(code, cameras if offer.per_camera else 1))
    return items


@routes.get(BASE, allow_head=False)
@customer_required
async def my_services(request: web.Request) -> web.StreamResponse:
    """The "My services" page (S1): included, video, security, support plans and payments."""
    page = await services.services_page(
        core_of(request), current_user(request).id, int_param(request, "installation_id")
    )
    return render(request, "billing/services.html", _context(request, page=page, groups=Group))


@routes.get(BASE + "/items/{code}", allow_head=False)
@customer_required
async def item(request: web.Request) -> web.StreamResponse:
    """A service's page: what it does and "Subscribe", or its subscription and "Cancel"."""
    page = await services.services_page(
        core_of(request), current_user(request).id, int_param(request, "installation_id")
    )
    code = request.match_info["code"]
    cell = next((c for c in page.cells if c.entry.offer.code == code), None)
    if cell is None:
        raise NotFound()
    cart = _cart(request.query)
    return render(
        request,
        "billing/item.html",
        _context(request, page=page, cell=cell, cart=carts.dump(cart), groups=Group),
    )


@routes.get(BASE + "/options", allow_head=False)
@customer_required
async def options(request: web.Request) -> web.StreamResponse:
    """Continuous recording only: its duration and how many cameras (S2)."""
    page = await services.services_page(
        core_of(request), current_user(request).id, int_param(request, "installation_id")
    )
    durations = [
        c for c in page.group(Group.VIDEO) if c.entry.item.active and c.subscription is None
    ]
    return render(
        request,
        "billing/options.html",
        _context(
            request,
            page=page,
            durations=durations,
            cart=carts.dump(_cart(request.query)),
            cameras=range(1, MAX_CAMERAS + 1),
        ),
    )


@routes.get(BASE + "/offer", allow_head=False)
@customer_required
async def offer(request: web.Request) -> web.StreamResponse:
    """The services not taken yet: "Add", or "Continue without adding" (S3)."""
    cart = _cart(request.query)
    page = await services.services_page(
        core_of(request), current_user(request).id, int_param(request, "installation_id")
    )
    in_cart = {i.code for i in cart}
    others = [
        c
        for c in page.cells
        if c.entry.offer.subscribable
        and c.entry.item.active
        and not page.taken(c.entry.offer.code)
        and not any(services.same_kind(code, c.entry.offer.code) for code in in_cart)
        and (page.plan_allowed or c.entry.offer.group is not Group.PLANS)
    ]
    if not others:
        return redirect(f"{page_base(request)}/summary?cart={carts.dump(cart)}")
    return render(
        request,
        "billing/offer.html",
        _context(request, page=page, others=others, cart=carts.dump(cart)),
    )


def page_base(request: web.Request) -> str:
    """The address of the installation's services."""
    return f"/customer/services/{int_param(request, 'installation_id')}"


@routes.get(BASE + "/summary", allow_head=False)
@customer_required
async def summary(request: web.Request) -> web.StreamResponse:
    """The summary before paying (S4)."""
    cart = _cart(request.query)
    errors: dict[str, str] = {}
    quote = None
    try:
        quote = await services.summary(
            core_of(request), current_user(request).id, int_param(request, "installation_id"), cart
        )
    except ValidationFailed as err:
        errors = err.errors
    return render(
        request,
        "billing/summary.html",
        _context(request, quote=quote, cart=carts.dump(cart), errors=errors),
        400 if errors else 200,
    )


async def _pay_page(
    request: web.Request,
    cart: tuple[carts.CartItem, ...],
    values: Mapping[str, str] | None,
    errors: dict[str, str],
) -> web.Response:
    core = core_of(request)
    customer_id = current_user(request).id
    quote = None
    try:
        quote = await services.summary(
            core, customer_id, int_param(request, "installation_id"), cart
        )
    except ValidationFailed as err:
        errors = {**errors, **err.errors}
    if values is None:
        stored = await services.billing_address(core, customer_id)
        values = {
            "name": stored.name if stored else current_user(request).name,
            "street": stored.street if stored else "",
            "postcode": stored.postcode if stored else "",
            "city": stored.city if stored else "",
            "country": stored.country if stored else "",
        }
    return render(
        request,
        "billing/pay.html",
        _context(request, quote=quote, cart=carts.dump(cart), values=values, errors=errors),
        400 if errors else 200,
    )


@routes.get(BASE + "/pay", allow_head=False)
@customer_required
async def pay_form(request: web.Request) -> web.StreamResponse:
    """The billing address, the terms, and "Pay X € and subscribe" (S4)."""
    return await _pay_page(request, _cart(request.query), None, {})


@routes.post(BASE + "/pay")
@customer_required
async def pay(request: web.Request) -> web.StreamResponse:
    """Subscribe, then the confirmation screen."""
    data = await form_data(request)
    cart = _cart({"cart": data.get("cart", "")})
    installation_id = int_param(request, "installation_id")
    address = Address(
        data.get("name", ""),
        data.get("street", ""),
        data.get("postcode", ""),
        data.get("city", ""),
        data.get("country", ""),
    )
    try:
        receipt = await services.pay(
            core_of(request),
            current_user(request).id,
            installation_id,
            cart,
            address,
            terms_accepted=data.get("terms") == "accepted",
            expected_gross_cents=parse_id(data.get("amount")) or 0,
        )
    except ValidationFailed as err:
        return await _pay_page(request, cart, data, err.errors)
    ids = ",".join(str(s.id) for s in receipt.subscriptions)
    return redirect(f"/customer/services/{installation_id}/confirmed?ids={ids}")


@routes.get(BASE + "/confirmed", allow_head=False)
@customer_required
async def confirmed(request: web.Request) -> web.StreamResponse:
    """The services just started (S4's last screen)."""
    ids = [i for i in (parse_id(p) for p in request.query.get("ids", "").split(",")) if i]
    started = await services.started(
        core_of(request), current_user(request).id, int_param(request, "installation_id"), ids
    )
    return render(request, "billing/confirmed.html", _context(request, started=started))


@routes.get("/customer/subscriptions/{subscription_id}/cancel", allow_head=False)
@customer_required
async def cancel_form(request: web.Request) -> web.StreamResponse:
    """How the service would end: credited, or now or at the end of the period (S5-S6)."""
    view = await services.subscription_view(
        core_of(request), current_user(request).id, int_param(request, "subscription_id")
    )
    return render(request, "billing/cancel.html", _context(request, view=view))


@routes.post("/customer/subscriptions/{subscription_id}/cancel")
@customer_required
async def cancel(request: web.Request) -> web.StreamResponse:
    """Cancel, then the confirmation screen (S10)."""
    subscription_id = int_param(request, "subscription_id")
    data = await form_data(request)
    mode = CancelMode.PERIOD_END if data.get("when") == "period_end" else CancelMode.NOW
    await services.cancel(core_of(request), current_user(request).id, subscription_id, mode)
    return redirect(f"/customer/subscriptions/{subscription_id}/cancelled")


@routes.get("/customer/subscriptions/{subscription_id}/cancelled", allow_head=False)
@customer_required
async def cancelled(request: web.Request) -> web.StreamResponse:
    """The subscription is now being, or was, cancelled."""
    view = await services.subscription_view(
        core_of(request), current_user(request).id, int_param(request, "subscription_id")
    )
    return render(request, "billing/cancelled.html", _context(request, view=view))


@routes.post("/customer/subscriptions/{subscription_id}/reactivate")
@customer_required
async def reactivate(request: web.Request) -> web.StreamResponse:
    """The "Cancel the termination" button (S7), then its confirmation."""
    subscription_id = int_param(request, "subscription_id")
    await services.reactivate(core_of(request), current_user(request).id, subscription_id)
    return redirect(f"/customer/subscriptions/{subscription_id}/reactivated")


@routes.get("/customer/subscriptions/{subscription_id}/reactivated", allow_head=False)
@customer_required
async def reactivated(request: web.Request) -> web.StreamResponse:
    """The service runs on: it is effective again within minutes."""
    view = await services.subscription_view(
        core_of(request), current_user(request).id, int_param(request, "subscription_id")
    )
    return render(request, "billing/reactivated.html", _context(request, view=view))
