"""What every payment provider offers, and how a payment is recorded (once) and counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from companion_server.invoicing.labels import CREDIT_NOTE
from companion_server.models import Invoice, Payment

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class PaymentStart:
    """How the customer pays an invoice: a page to go to, or the transfer details to use."""

    provider: str
    redirect_url: str | None


class PaymentProvider(Protocol):
    """A way to pay an invoice; what it receives is recorded with :func:`record_payment`."""

    name: str

    async def start(self, invoice: Invoice, *, return_url: str) -> PaymentStart:
        """Begin paying ``invoice``; ``return_url`` is where the customer comes back."""
        ...


@dataclass(frozen=True, slots=True)
class Balance:
    """What was invoiced, credited and paid of one invoice."""

    gross_cents: int
    credited_cents: int
    paid_cents: int

    @property
    def outstanding_cents(self) -> int:
        """What is still to pay (never below zero)."""
        return max(0, self.gross_cents - self.credited_cents - self.paid_cents)

    @property
    def status(self) -> str:
        """``paid``, ``partially_paid`` or ``open``."""
        if self.outstanding_cents == 0:
            return "paid"
        return "partially_paid" if self.paid_cents > 0 else "open"


async def balance(db: AsyncSession, invoice: Invoice) -> Balance:
    """The balance of an invoice from its payments and credit notes."""
    paid = await db.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.invoice_id == invoice.id
        )
    )
    credited = await db.scalar(
        select(func.coalesce(func.sum(Invoice.gross_cents), 0)).where(
            Invoice.credited_invoice_id == invoice.id, Invoice.kind == CREDIT_NOTE
        )
    )
    return Balance(invoice.gross_cents, int(credited or 0), int(paid or 0))


async def record_payment(
    db: AsyncSession,
    *,
    company_id: int,
    invoice_id: int | None,
    provider: str,
    external_id: str,
    reference: str,
    amount_cents: int,
    received_at: datetime,
    now: datetime,
) -> bool:
    """Record a payment unless the provider's id is known already; whether it was new."""
    external_id = external_id[:200]
    known = await db.scalar(
        select(Payment.id).where(Payment.provider == provider, Payment.external_id == external_id)
    )
    if known is not None:
        return False
    try:
        async with db.begin_nested():
            db.add(
                Payment(
                    company_id=company_id,
                    invoice_id=invoice_id,
                    provider=provider,
                    external_id=external_id,
                    reference=reference[:140],
                    amount_cents=amount_cents,
                    received_at=received_at,
                    recorded_at=now,
                )
            )
    except IntegrityError:
        return False  # recorded at the same moment by another request
    return True
