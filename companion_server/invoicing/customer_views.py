"""The customer's invoices (S8): list, view, print, download, pay; the payment method (S9)."""

from __future__ import annotations

from aiohttp import web

from companion_server.errors import NotFound, ValidationFailed
from companion_server.invoicing import advances, services
from companion_server.invoicing.files import pdf_response
from companion_server.invoicing.payments import methods
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
    redirect,
)

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
    return web.HTTPSeeOther(start.redirect_url)


@routes.get("/my-invoices/payment-method", allow_head=False)
@customer_required
async def payment_method(request: web.Request) -> web.StreamResponse:
    """Choose how to pay the next invoices (only while a paid service runs)."""
    core = core_of(request)
    user = current_user(request)
    if not await methods.may_change(core, user.id):
        return redirect("/my-invoices")
    return page(
        request,
        "invoicing/payment_method.html",
        {
            "method": await methods.method_of(core, user.id),
            "card": card_provider(core) is not None,
            "errors": {},
        },
    )


@routes.post("/my-invoices/payment-method")
@customer_required
async def save_payment_method(request: web.Request) -> web.StreamResponse:
    """Keep the chosen method."""
    core = core_of(request)
    user = current_user(request)
    values = await form_data(request)
    try:
        await methods.choose(
            core, user.id, values.get("provider", ""), card_provider(core) is not None
        )
    except ValidationFailed as err:
        return page(
            request,
            "invoicing/payment_method.html",
            {
                "method": await methods.method_of(core, user.id),
                "card": card_provider(core) is not None,
                "errors": err.errors,
            },
            status=400,
        )
    return flash_redirect(request, "/my-invoices", "payment_method_saved")
