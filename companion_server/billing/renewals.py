"""The monthly invoice run: the periods started since each customer's last invoice.

A service is paid a month ahead. When a period starts, the maintenance loop writes its
charge and invoices it with whatever else the customer owes the company and was not
invoiced yet (the credit of a service cancelled meanwhile), one invoice per customer and
company, charged to the card they saved if they pay by card, and e-mailed to them in their
language with the link to it in their customer area. Whichever instance runs it, a period is
invoiced once: the customer's billing address is locked while invoicing, and a charge
carries the invoice that billed it. The e-mail is queued in the outbox in the issuing
transaction, so it is sent once with the invoice, and after a restart if need be.
"""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.billing import charges
from companion_server.billing.money import euros
from companion_server.invoicing.labels import customer_url, display_number
from companion_server.invoicing.payments import methods, saved_card
from companion_server.invoicing.payments.card import PROVIDER as CARD
from companion_server.invoicing.store import store_of
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    Company,
    PaymentMethod,
    SellerProfile,
    ServiceSubscription,
    User,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

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


async def _mail(db: AsyncSession, core: Core, customer: User, invoice: Invoice) -> None:
    """Queue the invoice's e-mail, in the customer's language, in the issuing transaction."""
    company = await db.get(Company, invoice.company_id)
    method = await db.get(PaymentMethod, (customer.id, invoice.company_id))
    enqueue(
        db,
        core.now(),
        MailKind.INVOICE_ISSUED,
        customer.email,
        customer.language,
        company=company.name if company is not None else "",
        number=display_number(invoice.number),
        amount=euros(invoice.gross_cents, customer.language),
        link=customer_url(core.settings.public_url, invoice.id),
        # Said as the customer chose it; a declined card leaves the invoice to pay.
        card=method is not None
        and method.provider == CARD
        and saved_card.load(method.detail) is not None,
    )


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
                if customer is not None and invoice is not None:
                    await _mail(db, core, customer, invoice)
        except Exception:
            # One customer's failure (a seller detail missing since) stops no one else's.
            LOGGER.exception("Renewal invoice of customer %s failed", customer_id)
            continue
        if invoice is not None:
            issued.append(invoice)
            await methods.charge_saved_card(core, invoice)
    return issued
