"""The monthly invoice run: the periods started since each customer's last invoice.

A service is paid a month ahead. When a period starts, the maintenance loop writes its
charge and invoices it with whatever else the customer owes the company and was not
invoiced yet (the credit of a service cancelled meanwhile), one invoice per customer and
company, charged to the card they saved if they pay by card. Whichever instance runs it,
a period is invoiced once: the customer's billing address is locked while invoicing, and a
charge carries the invoice that billed it.
"""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.billing import charges
from companion_server.invoicing.payments import methods
from companion_server.invoicing.store import store_of
from companion_server.models import SellerProfile, ServiceSubscription, User

if TYPE_CHECKING:
    from companion_server.core import Core
    from companion_server.models import Invoice

LOGGER = logging.getLogger(__name__)


async def _due(core: Core) -> list[tuple[int, int]]:
    """(company, customer) of every paid service whose next period may have started."""
    now = core.now()
    async with core.tx() as db:
        rows = await db.execute(
            select(ServiceSubscription.company_id, ServiceSubscription.customer_id)
            .join(SellerProfile, SellerProfile.company_id == ServiceSubscription.company_id)
            .where(
                ServiceSubscription.ended_at.is_(None),
                ServiceSubscription.monthly_price_cents > 0,
                # A day ahead of UTC covers every time zone; the local day decides.
                ServiceSubscription.billed_until <= now.date() + timedelta(days=1),
            )
            .distinct()
            .order_by(ServiceSubscription.company_id, ServiceSubscription.customer_id)
        )
        return [(company_id, customer_id) for company_id, customer_id in rows.tuples()]


async def invoice_renewals(core: Core) -> list[Invoice]:
    """Invoice every customer whose paid services started a period; the invoices issued."""
    issued: list[Invoice] = []
    for company_id, customer_id in await _due(core):
        try:
            async with core.tx() as db:
                customer = await db.get(User, customer_id)
                invoice = None
                if customer is not None:
                    invoice = await charges.invoice_due(
                        db,
                        company_id=company_id,
                        customer=customer,
                        store=store_of(core),
                        now=core.now(),
                    )
        except Exception:
            # One customer's failure (a seller detail missing since) stops no one else's.
            LOGGER.exception("Renewal invoice of customer %s failed", customer_id)
            continue
        if invoice is not None:
            issued.append(invoice)
            await methods.charge_saved_card(core, invoice)
    return issued
