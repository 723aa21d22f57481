"""The customer's invoices (S8): list, view, print, download, pay; the payment method (S9)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from companion_server.errors import NotFound, ValidationFailed
from companion_server.invoicing import advances, services
from companion_server.invoicing.files import pdf_response
from companion_server.invoicing.payments import methods, saved_card
from companion_server.invoicing.payments.bank import qr_data_uri
from companion_server.invoicing.payments.registry import card_provider
from companion_server.invoicing.rendering import page
from companion_server.web import (
    core_of,
    current_user,
    customer_required,
    flash_redirect,
    form_data,
    int_param,
)

if TYPE_CHECKING:
    from companion_server.core import Core
    from companion_server.invoicing.payments.card import CardPayments
    from companion_server.models import User

routes = web.RouteTableDef()
ID = r"{invoice_id:\d+}"


@routes.get("/my-invoices", allow_head=False)
@customer_required
async def my_invoices(request: web.Request) -> web.StreamResponse:
    """Every invoice of the customer, paid or not, kept after a cancellation."""
    core = core_of(request)
    user = current_user(request)
    return page(
        request,
        "invoicing/my_invoices.html",
        {
            "rows": await services.customer_invoices(core, user.id),
            "method": await methods.method_of(core, user.id),
            "may_change": await methods.may_change(core, user.id),
        },
    )


@routes.get(f"/my-invoices/{ID}", allow_head=False)
@customer_required
async def my_invoice(request: web.Request) -> web.StreamResponse:
    """One invoice, printable as it is."""
    core = core_of(request)
    detail = await services.customer_invoice(
        core, current_user(request).id, int_param(request, "invoice_id")
    )
    outstanding = detail.balance.outstanding_cents
    return page(
        request,
        "invoicing/invoice.html",
        {
            "d": detail,
            "base": "/my-invoices",
            "card": card_provider(core) is not None,
            "advance": await advances.is_advance(core, detail.invoice.id),
            "qr": qr_data_uri(detail.invoice, outstanding) if outstanding else None,
        },
    )


@routes.get(f"/my-invoices/{ID}/pdf", allow_head=False)
@customer_required
async def my_invoice_pdf(request: web.Request) -> web.StreamResponse:
    """The PDF/A-3 (``?print=1`` opens it in the browser to print)."""
    core = core_of(request)
    detail = await services.customer_invoice(
        core, current_user(request).id, int_param(request, "invoice_id")
    )
    return await pdf_response(core, detail.invoice, inline="print" in request.query)


@routes.post(f"/my-invoices/{ID}/pay")
@customer_required
async def pay_by_card(request: web.Request) -> web.StreamResponse:
    """Open the card provider's payment page for what is still to pay."""
    core = core_of(request)
    detail = await services.customer_invoice(
        core, current_user(request).id, int_param(request, "invoice_id")
    )
    provider = card_provider(core)
    if provider is None or detail.balance.outstanding_cents == 0:
        raise NotFound()
    back = f"{core.settings.public_url.rstrip('/')}/my-invoices/{detail.invoice.id}"
    start = await provider.start(
        detail.invoice, return_url=back, amount_cents=detail.balance.outstanding_cents
    )
    if start.redirect_url is None:
        raise NotFound()
    raise web.HTTPSeeOther(start.redirect_url)


async def _method_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    core = core_of(request)
    user = current_user(request)
    await methods.check_may_change(core, user.id)
    return page(
        request,
        "invoicing/payment_method.html",
        {
            "method": await methods.method_of(core, user.id),
            "card": card_provider(core) is not None,
            "errors": errors or {},
        },
        status=status,
    )


@routes.get("/my-invoices/payment-method", allow_head=False)
@customer_required
async def payment_method(request: web.Request) -> web.StreamResponse:
    """Choose how to pay the next invoices (only while a paid service runs, else 404)."""
    return await _method_page(request)


@routes.post("/my-invoices/payment-method")
@customer_required
async def save_payment_method(request: web.Request) -> web.StreamResponse:
    """Keep the chosen method: bank transfer, or the card saved already."""
    core = core_of(request)
    values = await form_data(request)
    try:
        await methods.choose(core, current_user(request).id, values.get("provider", ""))
    except ValidationFailed as err:
        return await _method_page(request, err.errors, status=400)
    return flash_redirect(request, "/my-invoices", "payment_method_saved")


@routes.post("/my-invoices/payment-method/card")
@customer_required
async def save_card(request: web.Request) -> web.StreamResponse:
    """Open Stripe's page that saves a card (the portal never sees the card's number)."""
    core, user, provider = await _card_setup(request)
    back = f"{core.settings.public_url.rstrip('/')}/my-invoices/payment-method"
    url = await saved_card.start_setup(
        provider,
        user,
        success_url=back + "/card/done?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=back,
    )
    raise web.HTTPSeeOther(url)


@routes.get("/my-invoices/payment-method/card/done", allow_head=False)
@customer_required
async def card_saved(request: web.Request) -> web.StreamResponse:
    """Back from Stripe: keep the card the customer's session saved (its brand, last digits)."""
    core, user, provider = await _card_setup(request)
    card = await saved_card.finish_setup(provider, user, request.query.get("session_id", ""))
    await methods.save_card(core, user.id, card)
    return flash_redirect(request, "/my-invoices/payment-method", "card_saved")


async def _card_setup(request: web.Request) -> tuple[Core, User, CardPayments]:
    """The customer may change their payment method and the portal has a card provider."""
    core = core_of(request)
    user = current_user(request)
    await methods.check_may_change(core, user.id)
    provider = card_provider(core)
    if provider is None:
        raise NotFound()
    return core, user, provider
