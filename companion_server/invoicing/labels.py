"""How invoices are named on pages, in the PDF and in the export."""

from __future__ import annotations

from companion_server.billing.money import euros
from companion_server.i18n import N_

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
KIND_LABELS = {INVOICE: N_("Invoice"), CREDIT_NOTE: N_("Credit note")}
# UNTDID 1001: commercial invoice, credit note.
TYPE_CODES = {INVOICE: "380", CREDIT_NOTE: "381"}


def display_number(number: int) -> str:
    """The number as printed: six digits at least, the same sequence for both kinds."""
    return f"{number:06d}"


def customer_url(public_url: str, invoice_id: int) -> str:
    """The invoice's page in the customer area, as the e-mails link it."""
    return f"{public_url.rstrip('/')}/my-invoices/{invoice_id}"


STATUS_LABELS = {
    "paid": N_("Paid"),
    "partially_paid": N_("Partially paid"),
    "open": N_("Open"),
}


def rate_text(basis_points: int) -> str:
    """A VAT rate as printed: ``20 %``, ``5.5 %``."""
    whole, part = divmod(basis_points, 100)
    return f"{whole} %" if not part else f"{whole}.{part:02d}".rstrip("0") + " %"


def quantity_text(milli: int) -> str:
    """A quantity in thousandths as printed: ``1``, ``1.5``."""
    whole, part = divmod(abs(milli), 1000)
    text = f"{whole}" if not part else f"{whole}.{part:03d}".rstrip("0")
    return f"-{text}" if milli < 0 else text


# What the invoice pages use to write numbers, amounts, rates and statuses.
TEMPLATE_HELPERS = {
    "invoice_number": display_number,
    "money": euros,
    "kind_label": KIND_LABELS,
    "status_label": STATUS_LABELS,
    "rate": rate_text,
    "quantity": quantity_text,
}
