"""The demo company's invoicing details and one issued invoice to the demo customer (once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.invoicing.issue import Buyer, issue_invoice
from companion_server.invoicing.lines import ChargeLine
from companion_server.invoicing.store import store_of
from companion_server.models import Invoice, SellerProfile, User

if TYPE_CHECKING:
    from companion_server.core import Core

DEMO_CUSTOMER = "customer@demo.example"
DEMO_SOURCE = "demo:first-invoice"


async def seed_demo_invoice(core: Core, company_id: int) -> None:
    """Seller details for the company and the invoice of an on-site intervention."""
    async with core.tx() as db:
        now = core.now()
        if await db.get(SellerProfile, company_id) is None:
            db.add(
                SellerProfile(
                    company_id=company_id,
                    legal_name="Demo Installers SAS",
                    street="2 Avenue de la Gare",
                    postcode="69001",
                    city="Lyon",
                    country="FR",
                    vat_id="FR40303265045",
                    iban="FR1420041010050500013M02606",
                    bic="PSSTFRPPLIL",
                    vat_rate_basis_points=2000,
                    payment_days=14,
                    updated_at=now,
                )
            )
            await db.flush()
        customer = await db.scalar(select(User).where(User.email == DEMO_CUSTOMER))
        if customer is None:
            return
        already = await db.scalar(
            select(Invoice.id).where(
                Invoice.company_id == company_id, Invoice.customer_id == customer.id
            )
        )
        if already is not None:
            return
        await issue_invoice(
            db,
            company_id=company_id,
            customer_id=customer.id,
            buyer=Buyer(customer.name, customer.email, "5 Rue des Lilas", "75001", "Paris", "FR"),
            lines=[
                ChargeLine(
                    source=DEMO_SOURCE,
                    description_key="Service hour {number} of {count}, on site ({minutes} min)",
                    description_params=(("count", "1"), ("minutes", "45"), ("number", "1")),
                    quantity_milli=1000,
                    unit_price_cents=5000,
                    vat_rate_basis_points=2000,
                ),
                ChargeLine(
                    source=f"{DEMO_SOURCE}:trip",
                    description_key="Service trip {number} of {count}",
                    description_params=(("count", "1"), ("number", "1")),
                    quantity_milli=1000,
                    unit_price_cents=10000,
                    vat_rate_basis_points=2000,
                ),
            ],
            language=customer.language,
            now=now,
            store=store_of(core),
        )
