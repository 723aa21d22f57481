"""The printed invoice: one ReportLab layout, fonts embedded, in the customer's language.

The EPC QR code (``segno``) is drawn as vector squares, so no image library is needed and
the code stays sharp in print.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
import io
from pathlib import Path  # noqa: TC003 (a dataclass field type, resolved at runtime)
import threading
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
import segno
from segno import helpers

from companion_server.billing.money import euros
from companion_server.i18n import N_, translator
from companion_server.invoicing.amounts import totals
from companion_server.invoicing.labels import (
    CREDIT_NOTE,
    KIND_LABELS,
    display_number,
    quantity_text,
    rate_text,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from companion_server.models import Invoice, InvoiceLine

REGULAR = "InvoiceSans"
BOLD = "InvoiceSans-Bold"
MARGIN = 18 * mm
WIDTH, HEIGHT = A4
# Columns: description, quantity, unit price, VAT rate, amount (right edges after the first).
COLUMNS = (MARGIN, 120 * mm, 145 * mm, 163 * mm, WIDTH - MARGIN)
DESCRIPTION_WIDTH = 95 * mm


@dataclass(frozen=True, slots=True)
class Fonts:
    """The TrueType files embedded in every invoice.

    DejaVu: every letter of the four languages, Slovak's included.
    """

    regular: Path
    bold: Path


# Invoices render in worker threads, several at once: one registers the fonts while the
# others wait, or one could find the regular font there and draw with the bold one not yet.
_REGISTERING = threading.Lock()


def register(fonts: Fonts) -> None:
    """Register the fonts with ReportLab (idempotent, safe from several threads at once)."""
    with _REGISTERING:
        if BOLD not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(REGULAR, str(fonts.regular)))
            pdfmetrics.registerFont(TTFont(BOLD, str(fonts.bold)))


class _Page:
    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.y = HEIGHT - MARGIN

    def text(self, x: float, value: str, *, bold: bool = False, size: float = 9.5) -> None:
        self.canvas.setFont(BOLD if bold else REGULAR, size)
        self.canvas.drawString(x, self.y, value)

    def right(self, x: float, value: str, *, bold: bool = False, size: float = 9.5) -> None:
        self.canvas.setFont(BOLD if bold else REGULAR, size)
        self.canvas.drawRightString(x, self.y, value)

    def down(self, amount: float = 5 * mm) -> None:
        self.y -= amount
        if self.y < MARGIN + 10 * mm:
            self.canvas.showPage()
            self.y = HEIGHT - MARGIN


def _epc_qr(page: _Page, invoice: Invoice, x: float, y: float, size: float) -> None:
    """The EPC069-12 payment code: a banking app fills in the transfer from it."""
    qr = helpers.make_epc_qr(
        name=invoice.seller_name[:70],
        iban=invoice.seller_iban,
        amount=Decimal(invoice.gross_cents).scaleb(-2),
        reference=invoice.creditor_reference,
        bic=invoice.seller_bic or None,
    )
    draw_qr(page.canvas, qr, x, y, size)


def draw_qr(canvas: Canvas, qr: segno.QRCode, x: float, y: float, size: float) -> None:
    """Draw a QR code as dark squares, quiet zone included, with ``(x, y)`` bottom left."""
    rows = list(qr.matrix_iter(scale=1, border=4))
    cell = size / len(rows)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * cell, y + size - (r + 1) * cell, cell, cell, 0, 1)


def render(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    credited_number: int | None,
    fonts: Fonts,
) -> bytes:
    """The invoice's PDF (before Factur-X makes it PDF/A-3 with the XML inside)."""
    register(fonts)
    _ = translator(invoice.language)
    buffer = io.BytesIO()
    title = f"{_(KIND_LABELS[invoice.kind])} {display_number(invoice.number)}"
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(invoice.seller_name)
    page = _Page(canvas)
    page.text(MARGIN, invoice.seller_name, bold=True, size=12)
    page.right(COLUMNS[-1], title, bold=True, size=14)
    page.down()
    page.text(MARGIN, invoice.seller_street)
    page.right(COLUMNS[-1], _("Issued on {date}", date=invoice.issue_date.isoformat()))
    page.down()
    page.text(MARGIN, f"{invoice.seller_postcode} {invoice.seller_city} ({invoice.seller_country})")
    if invoice.kind != CREDIT_NOTE:
        page.right(COLUMNS[-1], _("Due on {date}", date=invoice.due_date.isoformat()))
    page.down()
    page.text(MARGIN, _("VAT number: {vat_id}", vat_id=invoice.seller_vat_id))
    if credited_number is not None:
        page.right(
            COLUMNS[-1], _("Corrects invoice {number}", number=display_number(credited_number))
        )
    page.down(12 * mm)
    page.text(MARGIN, _("Bill to"), bold=True)
    for value in (
        invoice.buyer_name,
        invoice.buyer_street,
        f"{invoice.buyer_postcode} {invoice.buyer_city} ({invoice.buyer_country})",
        invoice.buyer_email,
    ):
        page.down()
        page.text(MARGIN, value)
    page.down(12 * mm)
    headers = (_("Description"), _("Quantity"), _("Unit price"), _("VAT"), _("Amount"))
    page.text(COLUMNS[0], headers[0], bold=True)
    for x, header in zip(COLUMNS[1:], headers[1:], strict=True):
        page.right(x, header, bold=True)
    canvas.line(MARGIN, page.y - 2 * mm, WIDTH - MARGIN, page.y - 2 * mm)
    page.down(7 * mm)
    for line in lines:
        wrapped = simpleSplit(line.description, REGULAR, 9.5, DESCRIPTION_WIDTH)
        page.text(COLUMNS[0], wrapped[0] if wrapped else "")
        page.right(COLUMNS[1], quantity_text(line.quantity_milli))
        page.right(COLUMNS[2], euros(line.unit_price_cents, invoice.language))
        page.right(COLUMNS[3], rate_text(line.vat_rate_basis_points))
        page.right(COLUMNS[4], euros(line.net_cents, invoice.language))
        for more in wrapped[1:]:
            page.down(4.5 * mm)
            page.text(COLUMNS[0], more)
        page.down()
    canvas.line(COLUMNS[2] - 25 * mm, page.y + 2 * mm, WIDTH - MARGIN, page.y + 2 * mm)
    page.down(2 * mm)
    result = totals((line.net_cents, line.vat_rate_basis_points) for line in lines)
    page.text(COLUMNS[2] - 25 * mm, _("Total excluding VAT"))
    page.right(COLUMNS[-1], euros(result.net_cents, invoice.language))
    for group in result.groups:
        page.down()
        rate = rate_text(group.rate_basis_points)
        page.text(
            COLUMNS[2] - 25 * mm,
            _("VAT {rate} on {amount}", rate=rate, amount=euros(group.net_cents, invoice.language)),
        )
        page.right(COLUMNS[-1], euros(group.vat_cents, invoice.language))
    page.down()
    page.text(COLUMNS[2] - 25 * mm, _("Total VAT"))
    page.right(COLUMNS[-1], euros(result.vat_cents, invoice.language))
    page.down()
    label = N_("Total credited") if invoice.kind == CREDIT_NOTE else N_("Total due")
    page.text(COLUMNS[2] - 25 * mm, _(label), bold=True)
    page.right(COLUMNS[-1], euros(result.gross_cents, invoice.language), bold=True)
    if invoice.kind != CREDIT_NOTE and result.gross_cents > 0:
        page.down(14 * mm)
        top = page.y
        page.text(MARGIN, _("Pay by bank transfer"), bold=True)
        for value in (
            _("IBAN: {iban}", iban=invoice.seller_iban),
            _("BIC: {bic}", bic=invoice.seller_bic or "-"),
            _("Reference: {reference}", reference=invoice.creditor_reference),
            _("Scan the code with your banking app."),
        ):
            page.down()
            page.text(MARGIN, value)
        size = 32 * mm
        _epc_qr(page, invoice, WIDTH - MARGIN - size, top - size + 4 * mm, size)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
