"""The company's list of invoices and credit notes: pages of 50, newest number first.

Keyset pagination (the last row's number, never OFFSET) over the (company, number) unique
index: a page costs the same whatever its position and however many invoices the company
has issued; invoices issued meanwhile do not shift the rows of the next page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from companion_server.invoicing.payments.base import balance
from companion_server.invoicing.services import Row
from companion_server.keyset import decode_cursor, encode_cursor, split_page
from companion_server.models import Invoice

if TYPE_CHECKING:
    from companion_server.core import Core

PAGE_SIZE: Final = 50


@dataclass(frozen=True, slots=True)
class InvoicePage:
    """One page of the company's invoices and where the next one starts."""

    rows: list[Row]
    next_after: str | None


async def invoice_page(core: Core, company_id: int, after: str | None = None) -> InvoicePage:
    """The company's invoices and credit notes after the cursor, newest number first."""
    start = decode_cursor(after, int)
    async with core.tx() as db:
        query = select(Invoice).where(Invoice.company_id == company_id)
        if start is not None:
            query = query.where(Invoice.number < start[0])
        found, last = split_page(
            list(await db.scalars(query.order_by(Invoice.number.desc()).limit(PAGE_SIZE + 1))),
            PAGE_SIZE,
        )
        return InvoicePage(
            [Row(invoice, await balance(db, invoice)) for invoice in found],
            None if last is None else encode_cursor(last.number, last.id),
        )
