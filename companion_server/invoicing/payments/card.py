"""Card payments through Stripe (the ``stripe`` SDK), configured by the portal's keys.

Paying opens a Stripe Checkout session for the invoice's outstanding amount; Stripe tells
the portal the outcome by a webhook, verified with the endpoint's signing secret (Stripe's
``Stripe-Signature`` scheme: HMAC-SHA256 over timestamp and body, five minutes' tolerance)
and processed once per event id. The SDK's HTTP client can be replaced, which is how the
tests replay Stripe's recorded answers without a network.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
import stripe

from companion_server.invoicing.labels import display_number
from companion_server.invoicing.payments.base import PaymentStart, record_payment
from companion_server.models import Invoice, ProviderEvent
from companion_server.parsing import parse_id

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

PROVIDER = "card"


class WebhookRefused(Exception):
    """The webhook's signature or body is not Stripe's."""


class CardPayments:
    """Stripe Checkout for one invoice at a time."""

    name = PROVIDER

    def __init__(
        self, secret_key: str, webhook_secret: str, http_client: stripe.HTTPClient | None = None
    ) -> None:
        """A provider on the given keys; ``http_client`` replaces the SDK's (tests)."""
        self.client = stripe.StripeClient(
            secret_key, http_client=http_client, max_network_retries=0
        )
        self.webhook_secret = webhook_secret

    async def start(
        self, invoice: Invoice, *, return_url: str, amount_cents: int = 0
    ) -> PaymentStart:
        """A Checkout session for the invoice (its outstanding amount when given)."""
        amount = amount_cents or invoice.gross_cents
        params: dict[str, Any] = {
            "mode": "payment",
            "success_url": return_url,
            "cancel_url": return_url,
            "customer_email": invoice.buyer_email or None,
            "client_reference_id": invoice.creditor_reference,
            "metadata": {"invoice_id": str(invoice.id), "company_id": str(invoice.company_id)},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": invoice.currency.lower(),
                        "unit_amount": amount,
                        "product_data": {
                            "name": f"{invoice.seller_name} {display_number(invoice.number)}"
                        },
                    },
                }
            ],
        }
        session = await asyncio.to_thread(self.client.v1.checkout.sessions.create, params)  # type: ignore[arg-type]
        return PaymentStart(PROVIDER, session.url)

    def verify(self, payload: bytes, signature: str | None) -> stripe.Event:
        """The event Stripe signed, or :class:`WebhookRefused`."""
        try:
            event: stripe.Event = stripe.Webhook.construct_event(
                payload, signature, self.webhook_secret
            )
        except (stripe.SignatureVerificationError, ValueError) as err:
            raise WebhookRefused(str(err)) from err
        return event


async def process_event(db: AsyncSession, event: stripe.Event, now: datetime) -> bool:
    """Apply a verified event once; False when its id was processed before."""
    try:
        async with db.begin_nested():
            db.add(
                ProviderEvent(
                    provider=PROVIDER, event_id=event.id, kind=event.type, processed_at=now
                )
            )
    except IntegrityError:
        return False
    if event.type not in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        return True
    session = event.data.object.to_dict()
    if session.get("payment_status") != "paid":
        return True
    metadata = session.get("metadata") or {}
    invoice = await db.scalar(
        select(Invoice).where(
            Invoice.id == (parse_id(metadata.get("invoice_id")) or 0),
            Invoice.company_id == (parse_id(metadata.get("company_id")) or 0),
        )
    )
    if invoice is None:
        return True
    await record_payment(
        db,
        company_id=invoice.company_id,
        invoice_id=invoice.id,
        provider=PROVIDER,
        external_id=str(session.get("payment_intent") or session["id"]),
        reference=invoice.creditor_reference,
        amount_cents=int(session.get("amount_total") or 0),
        received_at=datetime.fromtimestamp(int(event.created), UTC),
        now=now,
    )
    return True
