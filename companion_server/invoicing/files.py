"""Sending an invoice's PDF: named by its number, to open (and print) or to save."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from companion_server.invoicing.issue import ensure_file
from companion_server.invoicing.labels import display_number
from companion_server.invoicing.store import store_of

if TYPE_CHECKING:
    from companion_server.core import Core
    from companion_server.models import Invoice


async def pdf_response(core: Core, invoice: Invoice, *, inline: bool) -> web.FileResponse:
    """The invoice's file (``inline`` opens it in the browser's viewer to print).

    Rendered now if the file is missing (see :mod:`companion_server.invoicing.issue`).
    """
    store = store_of(core)
    await ensure_file(core, store, invoice)
    path = store.path(invoice.stored_name)
    name = f"{invoice.kind}-{display_number(invoice.number)}.pdf"
    disposition = "inline" if inline else "attachment"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'{disposition}; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
