"""The company's invoices, credit notes, seller details, CAMT upload, export (administrators).

Finished interventions are invoiced from here too.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from aiohttp import web

from companion_server.errors import ValidationFailed
from companion_server.invoicing import company_list, interventions, sellers, services
from companion_server.invoicing.credit_notes import issue_credit_note
from companion_server.invoicing.files import pdf_response
from companion_server.invoicing.payments.bank import import_statement
from companion_server.invoicing.rendering import form_page, form_post, page
from companion_server.invoicing.store import store_of
from companion_server.parsing import parse_int
from companion_server.records.uploads import file_part, read_all
from companion_server.uploads import streamed_upload
from companion_server.web import (
    admin_required,
    core_of,
    current_user,
    flash_redirect,
    int_param,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.models import SellerProfile

routes = web.RouteTableDef()
ID = r"{invoice_id:\d+}"


def _period(query: dict[str, str]) -> tuple[date, date] | None:
    try:
        start = date.fromisoformat(query.get("from", ""))
        end = date.fromisoformat(query.get("to", ""))
    except ValueError:
        return None
    return (start, end) if start <= end else None


@routes.get("/invoices", allow_head=False)
@admin_required
async def company_invoices(request: web.Request) -> web.StreamResponse:
    """The company's invoices and credit notes, and the bookkeeping export's form."""
    core = core_of(request)
    user = current_user(request)
    today = core.now().date()
    after = request.query.get("after") or None
    found = await company_list.invoice_page(core, user.company_id, after)
    return page(
        request,
        "invoicing/company_invoices.html",
        {
            "rows": found.rows,
            "after": after,
            "next_after": found.next_after,
            "seller": await sellers.seller(core, user.company_id),
            "period": {"from": today.replace(day=1).isoformat(), "to": today.isoformat()},
            "errors": {},
        },
    )


@routes.get("/invoices/export", allow_head=False)
@admin_required
async def export(request: web.Request) -> web.StreamResponse:
    """Invoices and payments of a period as CSV."""
    core = core_of(request)
    user = current_user(request)
    period = _period(dict(request.query))
    if period is None:
        first = await company_list.invoice_page(core, user.company_id)
        return page(
            request,
            "invoicing/company_invoices.html",
            {
                "rows": first.rows,
                "after": None,
                "next_after": first.next_after,
                "seller": await sellers.seller(core, user.company_id),
                "period": {
                    "from": request.query.get("from", ""),
                    "to": request.query.get("to", ""),
                },
                "errors": {"period": "Enter a period: two dates, the first not after the second."},
            },
            status=400,
        )
    text = await services.export_csv(core, user.company_id, *period)
    name = f"invoices-{period[0].isoformat()}-{period[1].isoformat()}.csv"
    return web.Response(
        body=text.encode("utf-8"),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


@routes.get(f"/invoices/{ID}", allow_head=False)
@admin_required
async def company_invoice(request: web.Request) -> web.StreamResponse:
    """One invoice: lines, payments, credit notes, and the credit-note form."""
    return await _invoice_page(request)


async def _invoice_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    detail = await services.company_invoice(
        core_of(request), current_user(request).company_id, int_param(request, "invoice_id")
    )
    return page(
        request,
        "invoicing/invoice.html",
        {"d": detail, "base": "/invoices", "card": False, "errors": errors or {}},
        status=status,
    )


@routes.get(f"/invoices/{ID}/pdf", allow_head=False)
@admin_required
async def company_invoice_pdf(request: web.Request) -> web.StreamResponse:
    """The invoice's PDF/A-3."""
    core = core_of(request)
    detail = await services.company_invoice(
        core, current_user(request).company_id, int_param(request, "invoice_id")
    )
    return await pdf_response(core, detail.invoice, inline="print" in request.query)


@routes.post(f"/invoices/{ID}/credit-note")
@admin_required
async def credit_note(request: web.Request) -> web.StreamResponse:
    """Credit the chosen lines of the invoice."""
    core = core_of(request)
    data = await request.post()
    positions = [
        parse_int(raw, 1, 10_000) for raw in data.getall("line", []) if isinstance(raw, str)
    ]
    try:
        if any(p is None for p in positions):
            raise ValidationFailed(
                {"lines": "A chosen line does not exist or is credited already."}
            )
        async with core.tx() as db:
            note = await issue_credit_note(
                db,
                company_id=current_user(request).company_id,
                invoice_id=int_param(request, "invoice_id"),
                positions=[p for p in positions if p is not None],
                now=core.now(),
                store=store_of(core),
            )
            note_id = note.id
    except ValidationFailed as err:
        return await _invoice_page(request, err.errors, status=400)
    return flash_redirect(request, f"/invoices/{note_id}", "credit_note_issued")


def _seller_values(p: SellerProfile | None) -> dict[str, str]:
    if p is None:
        return {"country": "", "vat_rate": "20", "payment_days": "14"}
    rate = p.vat_rate_basis_points
    return {
        "legal_name": p.legal_name,
        "street": p.street,
        "postcode": p.postcode,
        "city": p.city,
        "country": p.country,
        "vat_id": p.vat_id,
        "iban": p.iban,
        "bic": p.bic,
        "vat_rate": f"{rate // 100}" + (f".{rate % 100:02d}" if rate % 100 else ""),
        "payment_days": str(p.payment_days),
    }


@routes.get("/invoices/seller", allow_head=False)
@admin_required
async def seller_form(request: web.Request) -> web.StreamResponse:
    """The company's invoicing details."""
    profile = await sellers.seller(core_of(request), current_user(request).company_id)
    return page(request, "invoicing/seller.html", {"values": _seller_values(profile), "errors": {}})


async def _seller_page(
    request: web.Request, errors: dict[str, str], values: dict[str, str], status: int
) -> web.Response:
    return page(request, "invoicing/seller.html", {"values": values, "errors": errors}, status)


@routes.post("/invoices/seller")
@admin_required
async def save_seller(request: web.Request) -> web.StreamResponse:
    """Save the invoicing details (for invoices issued from now on)."""

    async def act(values: dict[str, str]) -> str:
        await sellers.save_seller(core_of(request), current_user(request).company_id, values)
        return "/invoices"

    return await form_post(request, act, _seller_page, "seller_saved")


def _statement_page(
    request: web.Request,
    report: object = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    return page(
        request,
        "invoicing/statements.html",
        {"report": report, "errors": errors or {}},
        status=status,
    )


@routes.get("/invoices/statements", allow_head=False)
@admin_required
async def statement_form(request: web.Request) -> web.StreamResponse:
    """Upload the bank's CAMT.053 statement."""
    return _statement_page(request)


@routes.post("/invoices/statements")
@admin_required
@streamed_upload
async def upload_statement(request: web.Request) -> web.StreamResponse:
    """Match the statement's transfers to the invoices; show what each did."""
    core = core_of(request)
    try:
        reader, part = await file_part(request)
        content = await read_all(reader, part, core.settings.import_max_bytes)
        async with core.tx() as db:
            report = await import_statement(
                db, current_user(request).company_id, content, core.now()
            )
    except ValidationFailed as err:
        response = _statement_page(request, errors=err.errors, status=400)
        response.force_close()
        return response
    return _statement_page(request, report)


@routes.get("/invoices/interventions", allow_head=False)
@admin_required
async def finished_interventions(request: web.Request) -> web.StreamResponse:
    """Finished remote interventions, to invoice from the time the journal recorded."""
    core = core_of(request)
    async with core.tx() as db:
        rows = await interventions.finished(db, current_user(request).company_id)
    return page(request, "invoicing/interventions.html", {"rows": rows})


async def _finished_terms(db: AsyncSession, request: web.Request) -> dict[str, Any]:
    row, terms = await interventions.finished_terms(
        db, current_user(request).company_id, int_param(request, "window_id")
    )
    return {"row": row, "terms": terms}


_intervention_form = form_page("invoicing/intervention_form.html", _finished_terms)


@routes.get(r"/invoices/interventions/{window_id:\d+}", allow_head=False)
@admin_required
async def intervention_form(request: web.Request) -> web.StreamResponse:
    """The invoice form of one finished intervention."""
    return await _intervention_form(request)


@routes.post(r"/invoices/interventions/{window_id:\d+}")
@admin_required
async def invoice_intervention(request: web.Request) -> web.StreamResponse:
    """Issue the intervention's invoice: a line per started hour and per trip."""
    core = core_of(request)

    async def act(values: dict[str, str]) -> str:
        invoice = await interventions.invoice_intervention(
            core, current_user(request), int_param(request, "window_id"), values, store_of(core)
        )
        return f"/invoices/{invoice.id}"

    return await form_post(request, act, _intervention_form, "invoice_issued")
