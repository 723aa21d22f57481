"""What the invoice pages show: each person sees only their own invoices or company's."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
import io
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.errors import NotFound
from companion_server.invoicing.amounts import euros, percent_of
from companion_server.invoicing.credit_notes import credited_positions
from companion_server.invoicing.issue import lines_of
from companion_server.invoicing.labels import display_number
from companion_server.invoicing.payments.base import Balance, balance
from companion_server.models import Invoice, InvoiceLine, Payment

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

MAX_ROWS = 500


@dataclass(frozen=True, slots=True)
class Row:
    """An invoice in a list, with where its payment stands."""

    invoice: Invoice
    balance: Balance


@dataclass(frozen=True, slots=True)
class Detail:
    """One invoice with its lines, payments, credit notes and the lines credited already."""

    invoice: Invoice
    lines: list[InvoiceLine]
    line_vat: dict[int, int]
    balance: Balance
    payments: list[Payment]
    credit_notes: list[Invoice]
    credited: set[int]
    credited_number: int | None


async def _rows(db: AsyncSession, *where: object) -> list[Row]:
    invoices = await db.scalars(
        select(Invoice).where(*where).order_by(Invoice.number.desc()).limit(MAX_ROWS)  # type: ignore[arg-type]
    )
    return [Row(invoice, await balance(db, invoice)) for invoice in invoices]


async def customer_invoices(core: Core, customer_id: int) -> list[Row]:
    """Every invoice of the customer, from every company, newest first (kept after cancelling)."""
    async with core.tx() as db:
        return await _rows(db, Invoice.customer_id == customer_id)


async def _detail(db: AsyncSession, invoice: Invoice) -> Detail:
    lines = await lines_of(db, invoice.id)
    payments = list(
        await db.scalars(
            select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.received_at)
        )
    )
    notes = list(
        await db.scalars(
            select(Invoice)
            .where(Invoice.credited_invoice_id == invoice.id)
            .order_by(Invoice.number)
        )
    )
    credited_number = None
    if invoice.credited_invoice_id is not None:
        credited_number = await db.scalar(
            select(Invoice.number).where(Invoice.id == invoice.credited_invoice_id)
        )
    return Detail(
        invoice,
        lines,
        {line.position: percent_of(line.net_cents, line.vat_rate_basis_points) for line in lines},
        await balance(db, invoice),
        payments,
        notes,
        await credited_positions(db, invoice.id),
        credited_number,
    )


async def customer_invoice(core: Core, customer_id: int, invoice_id: int) -> Detail:
    """One of the customer's invoices (another's is not found)."""
    async with core.tx() as db:
        invoice = await db.get(Invoice, invoice_id)
        if invoice is None or invoice.customer_id != customer_id:
            raise NotFound()
        return await _detail(db, invoice)


async def company_invoice(core: Core, company_id: int, invoice_id: int) -> Detail:
    """One of the company's invoices (another company's is not found)."""
    async with core.tx() as db:
        invoice = await db.get(Invoice, invoice_id)
        if invoice is None or invoice.company_id != company_id:
            raise NotFound()
        return await _detail(db, invoice)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), UTC), datetime.combine(
        end + timedelta(days=1), time(), UTC
    )


async def export_csv(core: Core, company_id: int, start: date, end: date) -> str:
    """The invoices and payments of ``start``..``end`` (UTC days, both included) as CSV.

    One row per document: invoices and credit notes by issue time, then payments by the day
    the money was received; amounts in euros with a point, credit notes negative.
    """
    low, high = _bounds(start, end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "type",
            "date",
            "number",
            "credited_number",
            "customer",
            "reference",
            "net",
            "vat",
            "gross",
            "provider",
            "invoice_number",
        ]
    )
    async with core.tx() as db:
        invoices = list(
            await db.scalars(
                select(Invoice)
                .where(
                    Invoice.company_id == company_id,
                    Invoice.issued_at >= low,
                    Invoice.issued_at < high,
                )
                .order_by(Invoice.number)
            )
        )
        numbers = {invoice.id: invoice.number for invoice in invoices}
        for invoice in invoices:
            sign = -1 if invoice.credited_invoice_id is not None else 1
            credited = ""
            if invoice.credited_invoice_id is not None:
                number = numbers.get(invoice.credited_invoice_id) or await db.scalar(
                    select(Invoice.number).where(Invoice.id == invoice.credited_invoice_id)
                )
                credited = display_number(number or 0)
            writer.writerow(
                [
                    invoice.kind,
                    invoice.issue_date.isoformat(),
                    display_number(invoice.number),
                    credited,
                    _cell(invoice.buyer_name),
                    invoice.creditor_reference,
                    euros(sign * invoice.net_cents),
                    euros(sign * invoice.vat_cents),
                    euros(sign * invoice.gross_cents),
                    "",
                    "",
                ]
            )
        rows = await db.execute(
            select(Payment, Invoice.number)
            .outerjoin(Invoice, Invoice.id == Payment.invoice_id)
            .where(
                Payment.company_id == company_id,
                Payment.received_at >= low,
                Payment.received_at < high,
            )
            .order_by(Payment.received_at, Payment.id)
        )
        for payment, number in rows:
            writer.writerow(
                [
                    "payment",
                    payment.received_at.date().isoformat(),
                    "",
                    "",
                    "",
                    _cell(payment.reference),
                    "",
                    "",
                    euros(payment.amount_cents),
                    payment.provider,
                    display_number(number) if number is not None else "",
                ]
            )
    return out.getvalue()


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
