"""The invoicing objects of the authorization matrix's world (rows written directly: fast)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import secrets
from typing import Any

from companion_server.invoicing.references import creditor_reference
from companion_server.invoicing.store import store_of
from companion_server.models import (
    Installation,
    InterventionEntry,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    RemoteWindow,
    SellerProfile,
    User,
)

SELLER = {
    "street": "1 Rue",
    "postcode": "75001",
    "city": "Paris",
    "country": "FR",
    "vat_id": "FR40303265045",
    "iban": "FR1420041010050500013M02606",
    "bic": "",
    "vat_rate_basis_points": 2000,
    "payment_days": 14,
}


def _file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n")


async def invoicing_objects(
    db: Any, core: Any, installation: Installation, customer: User
) -> dict[str, str]:
    """The company's seller details, an invoice to the customer, a finished remote window."""
    now = core.now()
    company_id = installation.company_id
    db.add(SellerProfile(company_id=company_id, legal_name="Seller", updated_at=now, **SELLER))
    db.add(InvoiceCounter(company_id=company_id, last_number=1))
    stored = secrets.token_hex(16)
    path: Path = store_of(core).path(stored)
    _file(path)
    invoice = Invoice(
        company_id=company_id,
        number=1,
        kind="invoice",
        customer_id=customer.id,
        issued_at=now,
        issue_date=now.date(),
        due_date=now.date(),
        language="en",
        currency="EUR",
        seller_name="Seller",
        seller_street="1 Rue",
        seller_postcode="75001",
        seller_city="Paris",
        seller_country="FR",
        seller_vat_id="FR40303265045",
        seller_iban="FR1420041010050500013M02606",
        seller_bic="",
        buyer_name=customer.name,
        buyer_email=customer.email,
        buyer_street="2 Rue",
        buyer_postcode="75002",
        buyer_city="Paris",
        buyer_country="FR",
        net_cents=1000,
        vat_cents=200,
        gross_cents=1200,
        creditor_reference=creditor_reference(company_id, 1),
        stored_name=stored,
    )
    db.add(invoice)
    await db.flush()
    db.add(
        InvoiceLine(
            invoice_id=invoice.id,
            position=1,
            source=f"matrix:{invoice.id}",
            description="Service",
            quantity_milli=1000,
            unit_price_cents=1000,
            vat_rate_basis_points=2000,
            net_cents=1000,
        )
    )
    start = now - timedelta(hours=2)
    window = RemoteWindow(
        installation_id=installation.id,
        state="ended",
        kinds="[]",
        hours=2,
        until=now,
        requested_at=start,
        changed_at=now - timedelta(minutes=30),
    )
    db.add(window)
    db.add(
        InterventionEntry(
            installation_id=installation.id,
            company_id=company_id,
            at=start,
            kind="window_granted",
        )
    )
    await db.flush()
    return {"invoice_id": str(invoice.id), "window_id": str(window.id)}
