"""Issuing invoices: numbered without gaps per company, written once, filed as PDF/A-3.

The number comes from the company's counter row, incremented by an ``UPDATE ... RETURNING``
in the issuing transaction: the row stays locked until that transaction ends, so a second
issuer of the same company waits for it and gets the next number; a transaction that rolls
back gives its number back with everything else. Nothing updates an invoice afterwards: a
correction is a credit note (:mod:`companion_server.invoicing.credit_notes`).

The PDF is rendered after the commit, outside the numbering lock (a slow render must not
hold up the company's other invoices): number, lines and totals are committed first, and
a file missing after a crash in between is rendered on its first download
(:func:`ensure_file`), from the same committed rows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
import functools
import logging
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from companion_server.core import after_commit
from companion_server.errors import ValidationFailed
from companion_server.i18n import LANGUAGES, translator
from companion_server.invoicing import document
from companion_server.invoicing.amounts import totals
from companion_server.invoicing.labels import INVOICE
from companion_server.invoicing.references import creditor_reference
from companion_server.models import Invoice, InvoiceCounter, InvoiceLine, SellerProfile

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.invoicing.lines import ChargeLine
    from companion_server.invoicing.store import InvoiceStore

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Buyer:
    """Who is billed: name, e-mail and billing address (country as ISO 3166 alpha-2)."""

    name: str
    email: str
    street: str
    postcode: str
    city: str
    country: str


async def next_number(db: AsyncSession, company_id: int) -> int:
    """The company's next invoice number; its counter row stays locked until the commit."""
    values = {"company_id": company_id, "last_number": 0}
    insert = (postgresql if db.bind.dialect.name == "postgresql" else sqlite).insert
    await db.execute(insert(InvoiceCounter).values(values).on_conflict_do_nothing())
    number = await db.scalar(
        update(InvoiceCounter)
        .where(InvoiceCounter.company_id == company_id)
        .values(last_number=InvoiceCounter.last_number + 1)
        .returning(InvoiceCounter.last_number)
    )
    assert number is not None
    return number


async def seller_of(db: AsyncSession, company_id: int) -> SellerProfile:
    """The company's seller details; invoicing without them is refused."""
    seller = await db.get(SellerProfile, company_id)
    if seller is None:
        raise ValidationFailed({"seller": "Enter the company's invoicing details first."})
    return seller


def _check(buyer: Buyer, lines: Sequence[ChargeLine], language: str) -> None:
    errors: dict[str, str] = {}
    if not lines:
        errors["lines"] = "An invoice needs at least one line."
    elif totals((line.net_cents, line.vat_rate_basis_points) for line in lines).gross_cents < 0:
        errors["lines"] = "The total of an invoice cannot be negative: issue a credit note."
    if not buyer.name.strip() or not buyer.city.strip() or len(buyer.country) != 2:
        errors["buyer"] = "Enter the buyer's name, city and country."
    if language not in LANGUAGES:
        errors["language"] = "Choose a language."
    if errors:
        raise ValidationFailed(errors)


async def write_invoice(
    db: AsyncSession,
    *,
    company_id: int,
    customer_id: int | None,
    buyer: Buyer,
    lines: Sequence[InvoiceLine],
    language: str,
    now: datetime,
    kind: str,
    credited: Invoice | None,
    store: InvoiceStore,
) -> Invoice:
    """Number and record an invoice or credit note whose lines are priced; filed after commit."""
    seller = await seller_of(db, company_id)
    number = await next_number(db, company_id)
    result = totals((line.net_cents, line.vat_rate_basis_points) for line in lines)
    issue_date = now.date()
    invoice = Invoice(
        company_id=company_id,
        number=number,
        kind=kind,
        credited_invoice_id=credited.id if credited else None,
        customer_id=customer_id,
        issued_at=now,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=seller.payment_days),
        language=language,
        currency="EUR",
        seller_name=seller.legal_name,
        seller_street=seller.street,
        seller_postcode=seller.postcode,
        seller_city=seller.city,
        seller_country=seller.country,
        seller_vat_id=seller.vat_id,
        seller_iban=seller.iban,
        seller_bic=seller.bic,
        buyer_name=buyer.name.strip(),
        buyer_email=buyer.email.strip(),
        buyer_street=buyer.street.strip(),
        buyer_postcode=buyer.postcode.strip(),
        buyer_city=buyer.city.strip(),
        buyer_country=buyer.country.upper(),
        net_cents=result.net_cents,
        vat_cents=result.vat_cents,
        gross_cents=result.gross_cents,
        creditor_reference=creditor_reference(company_id, number),
        stored_name=secrets.token_hex(16),
    )
    db.add(invoice)
    await db.flush()
    for line in lines:
        line.invoice_id = invoice.id
        db.add(line)
    await db.flush()
    after_commit(
        db,
        functools.partial(
            _render_committed, store, invoice, list(lines), credited.number if credited else None
        ),
    )
    return invoice


async def render(
    store: InvoiceStore, invoice: Invoice, lines: Sequence[InvoiceLine], credited: int | None
) -> None:
    """Render and file the PDF of a committed invoice (replacing a file of the same name)."""
    # Rendering takes a few tens of milliseconds of CPU: not on the event loop.
    data = await asyncio.to_thread(document.build, invoice, lines, credited, store.fonts)
    await store.write(invoice.stored_name, data)


async def _render_committed(
    store: InvoiceStore, invoice: Invoice, lines: list[InvoiceLine], credited: int | None
) -> None:
    try:
        await render(store, invoice, lines, credited)
    except Exception:  # the invoice is committed: its first download renders it again
        LOG.exception("Invoice %s: PDF not rendered after the commit", invoice.id)


async def ensure_file(core: Core, store: InvoiceStore, invoice: Invoice) -> None:
    """Render the invoice's PDF if its file is missing (a crash between commit and render)."""
    if await asyncio.to_thread(store.path(invoice.stored_name).is_file):
        return
    async with core.tx() as db:
        lines = await lines_of(db, invoice.id)
        credited = None
        if invoice.credited_invoice_id is not None:
            credited = await db.scalar(
                select(Invoice.number).where(Invoice.id == invoice.credited_invoice_id)
            )
    await render(store, invoice, lines, credited)


async def issue_invoice(
    db: AsyncSession,
    *,
    company_id: int,
    customer_id: int | None,
    buyer: Buyer,
    lines: Sequence[ChargeLine],
    language: str,
    now: datetime,
    store: InvoiceStore,
) -> Invoice:
    """Issue an invoice of ``lines`` to ``buyer`` in the caller's transaction.

    Each line's description is translated into ``language`` when issued and kept as printed.
    Refused (:class:`ValidationFailed`, nothing written) without lines, with a negative
    total, without the buyer's address or without the company's seller details.
    """
    _check(buyer, lines, language)
    _ = translator(language)
    rows = [
        InvoiceLine(
            position=position,
            source=line.source,
            description=_(line.description_key, **dict(line.description_params))[:300],
            quantity_milli=line.quantity_milli,
            unit_price_cents=line.unit_price_cents,
            vat_rate_basis_points=line.vat_rate_basis_points,
            net_cents=line.net_cents,
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for position, line in enumerate(lines, start=1)
    ]
    return await write_invoice(
        db,
        company_id=company_id,
        customer_id=customer_id,
        buyer=buyer,
        lines=rows,
        language=language,
        now=now,
        kind=INVOICE,
        credited=None,
        store=store,
    )


async def lines_of(db: AsyncSession, invoice_id: int) -> list[InvoiceLine]:
    """An invoice's lines in their order."""
    return list(
        await db.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
    )
