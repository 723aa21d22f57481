"""Credit notes: the only correction of an issued invoice.

A credit note credits whole lines of one invoice, each at most once over all its credit
notes, so the credit notes of an invoice never exceed it. Its lines keep the invoice's
amounts (positive, as EN 16931 writes a credit note) and name the line they credit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.errors import NotFound, ValidationFailed
from companion_server.invoicing.issue import Buyer, lines_of, write_invoice
from companion_server.invoicing.labels import CREDIT_NOTE, INVOICE
from companion_server.models import Invoice, InvoiceLine

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.invoicing.store import InvoiceStore


def credit_source(invoice_id: int, position: int) -> str:
    """The source of a credit note's line: the invoice line it credits."""
    return f"credit:invoice:{invoice_id}:{position}"


async def credited_positions(db: AsyncSession, invoice_id: int) -> set[int]:
    """The positions of an invoice's lines already credited."""
    prefix = f"credit:invoice:{invoice_id}:"
    sources = await db.scalars(
        select(InvoiceLine.source)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.credited_invoice_id == invoice_id, InvoiceLine.source.startswith(prefix))
    )
    return {int(source.removeprefix(prefix)) for source in sources}


async def issue_credit_note(
    db: AsyncSession,
    *,
    company_id: int,
    invoice_id: int,
    positions: Collection[int],
    now: datetime,
    store: InvoiceStore,
) -> Invoice:
    """Credit the chosen lines of one of the company's invoices (locked while crediting).

    Refused when no line is chosen or a chosen line does not exist or is credited already.
    """
    invoice = await db.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id, Invoice.company_id == company_id, Invoice.kind == INVOICE)
        .with_for_update()
    )
    if invoice is None:
        raise NotFound()
    lines = {line.position: line for line in await lines_of(db, invoice.id)}
    done = await credited_positions(db, invoice.id)
    chosen = sorted(set(positions))
    if not chosen:
        raise ValidationFailed({"lines": "Choose the lines to credit."})
    if any(position not in lines or position in done for position in chosen):
        raise ValidationFailed({"lines": "A chosen line does not exist or is credited already."})
    rows = [
        InvoiceLine(
            position=number,
            source=credit_source(invoice.id, position),
            description=lines[position].description,
            quantity_milli=lines[position].quantity_milli,
            unit_price_cents=lines[position].unit_price_cents,
            vat_rate_basis_points=lines[position].vat_rate_basis_points,
            net_cents=lines[position].net_cents,
            period_start=lines[position].period_start,
            period_end=lines[position].period_end,
        )
        for number, position in enumerate(chosen, start=1)
    ]
    buyer = Buyer(
        invoice.buyer_name,
        invoice.buyer_email,
        invoice.buyer_street,
        invoice.buyer_postcode,
        invoice.buyer_city,
        invoice.buyer_country,
    )
    return await write_invoice(
        db,
        company_id=company_id,
        customer_id=invoice.customer_id,
        buyer=buyer,
        lines=rows,
        language=invoice.language,
        now=now,
        kind=CREDIT_NOTE,
        credited=invoice,
        store=store,
    )
