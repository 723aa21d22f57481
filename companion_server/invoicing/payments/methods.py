"""How a customer pays the companies whose paid services they hold: transfer or saved card (S9).

"Change payment method" exists only while a paid service runs: the method applies to the
companies of those services. A saved card (see :mod:`.saved_card`) is charged for the
next invoices of those companies; bank transfer needs nothing kept.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
import stripe

from companion_server.billing import subscriptions
from companion_server.errors import NotFound, ValidationFailed
from companion_server.i18n import N_
from companion_server.invoicing.payments import saved_card
from companion_server.invoicing.payments.bank import PROVIDER as BANK
from companion_server.invoicing.payments.base import balance, record_payment
from companion_server.invoicing.payments.card import PROVIDER as CARD
from companion_server.invoicing.payments.registry import card_provider
from companion_server.models import Invoice, PaymentMethod, ServiceSubscription

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.invoicing.payments.saved_card import SavedCard

LOG = logging.getLogger(__name__)
NO_PAID_SERVICE = N_("You can change the payment method while a paid service is active.")


@dataclass(frozen=True, slots=True)
class Method:
    """The customer's current method, and the saved card it uses."""

    provider: str
    card: SavedCard | None


async def paid_companies(db: AsyncSession, customer_id: int, now: datetime) -> list[int]:
    """The companies of the customer's running paid services."""
    rows = await db.scalars(
        select(ServiceSubscription).where(
            ServiceSubscription.customer_id == customer_id,
            ServiceSubscription.ended_at.is_(None),
            ServiceSubscription.monthly_price_cents > 0,
        )
    )
    return sorted(
        {
            sub.company_id
            for sub in rows
            if subscriptions.status_on(sub, subscriptions.today_of(sub, now))
            is not subscriptions.Status.ENDED
        }
    )


async def may_change(core: Core, customer_id: int) -> bool:
    """Whether a paid service of the customer runs (the page exists only then)."""
    async with core.tx() as db:
        return bool(await paid_companies(db, customer_id, core.now()))


async def _companies_or_refuse(db: AsyncSession, customer_id: int, now: datetime) -> list[int]:
    companies = await paid_companies(db, customer_id, now)
    if not companies:
        raise NotFound(NO_PAID_SERVICE)
    return companies


async def method_of(core: Core, customer_id: int) -> Method:
    """The chosen method (bank transfer until the customer chooses)."""
    async with core.tx() as db:
        row = await db.scalar(
            select(PaymentMethod)
            .where(PaymentMethod.customer_id == customer_id)
            .order_by(PaymentMethod.updated_at.desc())
            .limit(1)
        )
    if row is None:
        return Method(BANK, None)
    card = saved_card.load(row.detail) if row.detail else None
    return Method(row.provider if row.provider == BANK or card else BANK, card)


async def _keep(
    db: AsyncSession,
    customer_id: int,
    companies: list[int],
    provider: str,
    detail: str | None,
    now: datetime,
) -> None:
    for company_id in companies:
        row = await db.get(PaymentMethod, (customer_id, company_id))
        if row is None:
            row = PaymentMethod(customer_id=customer_id, company_id=company_id, detail="")
            db.add(row)
        row.provider = provider
        if detail is not None:
            row.detail = detail
        row.updated_at = now


async def choose(core: Core, customer_id: int, provider: str) -> None:
    """Pay by transfer, or by the card saved already, from now on."""
    async with core.tx() as db:
        companies = await _companies_or_refuse(db, customer_id, core.now())
        if provider == CARD:
            current = await db.scalar(
                select(PaymentMethod.detail)
                .where(PaymentMethod.customer_id == customer_id, PaymentMethod.detail != "")
                .limit(1)
            )
            if current is None or saved_card.load(current) is None:
                raise ValidationFailed({"provider": "Save a card first."})
        elif provider != BANK:
            raise ValidationFailed({"provider": "Choose a payment method."})
        await _keep(db, customer_id, companies, provider, None, core.now())


async def check_may_change(core: Core, customer_id: int) -> None:
    """:class:`NotFound` (with why) unless a paid service of the customer runs."""
    async with core.tx() as db:
        await _companies_or_refuse(db, customer_id, core.now())


async def save_card(core: Core, customer_id: int, card: SavedCard) -> None:
    """Keep the card saved with Stripe and pay by it from now on."""
    async with core.tx() as db:
        companies = await _companies_or_refuse(db, customer_id, core.now())
        await _keep(db, customer_id, companies, CARD, card.dump(), core.now())


async def charge_saved_card(core: Core, invoice: Invoice) -> bool:
    """Charge a new invoice to the customer's saved card if they pay by card; whether paid.

    Outside any transaction (a call to Stripe). A declined card leaves the invoice open:
    the customer pays it from the invoice page, by card or transfer.
    """
    provider = card_provider(core)
    if provider is None or invoice.customer_id is None:
        return False
    async with core.tx() as db:
        row = await db.get(PaymentMethod, (invoice.customer_id, invoice.company_id))
        outstanding = (await balance(db, invoice)).outstanding_cents
    card = saved_card.load(row.detail) if row is not None and row.provider == CARD else None
    if card is None or not outstanding:
        return False
    try:
        intent = await saved_card.charge(provider, card, invoice, outstanding)
    except stripe.StripeError:
        LOG.warning("Invoice %s: the saved card was not charged", invoice.id, exc_info=True)
        return False
    if intent.status != "succeeded":
        return False
    async with core.tx() as db:
        await record_payment(
            db,
            company_id=invoice.company_id,
            invoice_id=invoice.id,
            provider=CARD,
            external_id=str(intent.id),
            reference=invoice.creditor_reference,
            amount_cents=int(intent.amount),
            received_at=core.now(),
            now=core.now(),
        )
    return True
