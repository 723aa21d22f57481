"""How a customer pays the companies that invoice them: bank transfer or card (S9).

The choice is offered while the customer is billed by a company; which of their services
are paid and running is the subscriptions' knowledge, joined here when both are merged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.errors import ValidationFailed
from companion_server.invoicing.payments.bank import PROVIDER as BANK
from companion_server.invoicing.payments.card import PROVIDER as CARD
from companion_server.models import Invoice, PaymentMethod

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


async def _companies(db: AsyncSession, customer_id: int) -> list[int]:
    return list(
        await db.scalars(
            select(Invoice.company_id).where(Invoice.customer_id == customer_id).distinct()
        )
    )


async def may_change(core: Core, customer_id: int) -> bool:
    """Whether a company bills the customer (the page is offered only then)."""
    async with core.tx() as db:
        return bool(await _companies(db, customer_id))


async def method_of(core: Core, customer_id: int) -> str:
    """The chosen provider (bank transfer until the customer chooses)."""
    async with core.tx() as db:
        chosen = await db.scalar(
            select(PaymentMethod.provider)
            .where(PaymentMethod.customer_id == customer_id)
            .order_by(PaymentMethod.updated_at.desc())
            .limit(1)
        )
    return chosen or BANK


async def choose(core: Core, customer_id: int, provider: str, card_available: bool) -> None:
    """Pay every company billing the customer with ``provider`` from now on."""
    if provider not in (BANK, CARD) or (provider == CARD and not card_available):
        raise ValidationFailed({"provider": "Choose a payment method."})
    async with core.tx() as db:
        for company_id in await _companies(db, customer_id):
            row = await db.get(PaymentMethod, (customer_id, company_id))
            if row is None:
                row = PaymentMethod(customer_id=customer_id, company_id=company_id)
                db.add(row)
            row.provider = provider
            row.updated_at = core.now()
