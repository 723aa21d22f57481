"""The hand-over to invoicing: what is owed and not yet invoiced, and marking it invoiced.

Periods due are written when asked for, so an invoice run on any day bills every period
started until then, once: a charge's ``source`` is unique and carries the invoice id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update

from companion_server.billing import catalogue, periods, subscriptions
from companion_server.billing.catalogue import OFFERS
from companion_server.i18n import N_
from companion_server.invoicing.issue import Buyer, issue_invoice
from companion_server.invoicing.lines import ChargeLine
from companion_server.models import (
    BillingAddress,
    SellerProfile,
    ServiceCharge,
    ServiceSubscription,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.invoicing.store import InvoiceStore
    from companion_server.models import Invoice, User

CAMERAS_PARAM = "cameras"
# The invoice line names the service in the customer's language (the offer's own name).
NAMES = {offer.code: offer.name for offer in OFFERS}
CREDIT = N_("Credit for unused time")


def line_of(charge: ServiceCharge) -> ChargeLine:
    """The charge as an invoice line to be; a credit names the service it gives back."""
    credit = charge.unit_price_cents < 0
    return ChargeLine(
        source=charge.source,
        description_key=CREDIT if credit else NAMES.get(charge.code, charge.code),
        description_params=(),
        quantity_milli=charge.quantity_milli,
        unit_price_cents=charge.unit_price_cents,
        vat_rate_basis_points=charge.vat_rate_basis_points,
        period_start=charge.period_start,
        period_end=charge.period_end,
    )


async def uninvoiced_charges(
    db: AsyncSession, *, company_id: int, customer_id: int, until: date
) -> list[ChargeLine]:
    """Every charge of the customer with the company not invoiced yet, periods due included."""
    subs = await db.scalars(
        select(ServiceSubscription).where(
            ServiceSubscription.company_id == company_id,
            ServiceSubscription.customer_id == customer_id,
            ServiceSubscription.ended_at.is_(None),
        )
    )
    for sub in subs:
        await subscriptions.charge_due_periods(db, sub, until)
    rows = await db.scalars(
        select(ServiceCharge)
        .where(
            ServiceCharge.company_id == company_id,
            ServiceCharge.customer_id == customer_id,
            ServiceCharge.invoice_id.is_(None),
            ServiceCharge.period_start <= until,
        )
        .order_by(ServiceCharge.id)
    )
    return [line_of(row) for row in rows]


async def mark_invoiced(db: AsyncSession, *, sources: Sequence[str], invoice_id: int) -> None:
    """Mark the charges an invoice carries: a source is billed at most once."""
    if sources:
        await db.execute(
            update(ServiceCharge)
            .where(ServiceCharge.source.in_(list(sources)), ServiceCharge.invoice_id.is_(None))
            .values(invoice_id=invoice_id)
        )


async def invoice_due(
    db: AsyncSession, *, company_id: int, customer: User, store: InvoiceStore, now: datetime
) -> Invoice | None:
    """Invoice everything the customer owes the company today, in the caller's transaction.

    None when there is nothing to invoice: the company has no seller details yet, the
    customer no billing address, no charge is due, or the credits outweigh the charges (they
    wait for a later invoice: an invoice is never negative). The customer's billing address
    is locked first, so two runs (two instances) invoice a charge once.
    """
    address = await db.scalar(
        select(BillingAddress).where(BillingAddress.customer_id == customer.id).with_for_update()
    )
    if address is None or await db.get(SellerProfile, company_id) is None:
        return None
    profile = await catalogue.profile(db, company_id)
    lines = await uninvoiced_charges(
        db,
        company_id=company_id,
        customer_id=customer.id,
        until=periods.local_date(now, profile.time_zone),
    )
    if not lines or sum(line.net_cents for line in lines) < 0:
        return None
    invoice = await issue_invoice(
        db,
        company_id=company_id,
        customer_id=customer.id,
        buyer=Buyer(
            name=address.name,
            email=customer.email,
            street=address.street,
            postcode=address.postcode,
            city=address.city,
            country=address.country,
        ),
        lines=lines,
        language=customer.language,
        now=now,
        store=store,
    )
    await mark_invoiced(db, sources=[line.source for line in lines], invoice_id=invoice.id)
    return invoice
