"""A card the customer saves with Stripe (S9), and charging it for their next invoices.

Saving goes through Stripe Checkout in ``setup`` mode: the card details never reach the
portal. Back from Stripe, the portal reads the session (the card's brand and last four
digits, nothing else), checks it was opened for this customer and complete, and makes the
card the default of a Stripe customer, so that the next invoices can be charged without
the customer present (``off_session``).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
import json
from typing import TYPE_CHECKING, Any

from companion_server.errors import NotFound
from companion_server.invoicing.labels import display_number

if TYPE_CHECKING:
    from companion_server.invoicing.payments.card import CardPayments
    from companion_server.models import Invoice, User


@dataclass(frozen=True, slots=True)
class SavedCard:
    """What the portal keeps of a saved card: Stripe's ids and what the customer sees."""

    customer: str
    payment_method: str
    brand: str
    last4: str

    def dump(self) -> str:
        """As kept in ``PaymentMethod.detail``."""
        return json.dumps(asdict(self), sort_keys=True)


def load(detail: str) -> SavedCard | None:
    """The saved card kept in ``detail`` (None for none or an unreadable value)."""
    try:
        data = json.loads(detail)
        return SavedCard(
            str(data["customer"]),
            str(data["payment_method"]),
            str(data["brand"]),
            str(data["last4"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


async def start_setup(
    provider: CardPayments, customer: User, *, success_url: str, cancel_url: str
) -> str:
    """Open a Checkout session that saves a card; the page to send the customer to."""
    params: dict[str, Any] = {
        "mode": "setup",
        "currency": "eur",
        "payment_method_types": ["card"],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": str(customer.id),
        "metadata": {"customer_id": str(customer.id)},
    }
    session = await asyncio.to_thread(provider.client.v1.checkout.sessions.create, params)  # type: ignore[arg-type]
    return str(session.url)


async def finish_setup(provider: CardPayments, customer: User, session_id: str) -> SavedCard:
    """The card saved in the customer's finished session (:class:`NotFound` otherwise)."""
    if not session_id.startswith("cs_") or len(session_id) > 200:
        raise NotFound()
    session = (
        await asyncio.to_thread(
            provider.client.v1.checkout.sessions.retrieve,
            session_id,
            {"expand": ["setup_intent.payment_method"]},
        )
    ).to_dict()
    metadata = session.get("metadata") or {}
    intent = session.get("setup_intent") or {}
    if (
        session.get("mode") != "setup"
        or session.get("status") != "complete"
        or metadata.get("customer_id") != str(customer.id)
        or not isinstance(intent, dict)
        or intent.get("status") != "succeeded"
        or not isinstance(intent.get("payment_method"), dict)
    ):
        raise NotFound()
    method = intent["payment_method"]
    card = method.get("card") or {}
    params: dict[str, Any] = {
        "email": customer.email,
        "name": customer.name,
        "payment_method": method["id"],
        "invoice_settings": {"default_payment_method": method["id"]},
        "metadata": {"customer_id": str(customer.id)},
    }
    created = await asyncio.to_thread(provider.client.v1.customers.create, params)  # type: ignore[arg-type]
    return SavedCard(
        str(created.id), str(method["id"]), str(card.get("brand", "")), str(card.get("last4", ""))
    )


async def charge(provider: CardPayments, card: SavedCard, invoice: Invoice, amount: int) -> Any:
    """Charge ``amount`` cents of the invoice to the saved card (Stripe's PaymentIntent)."""
    params: dict[str, Any] = {
        "amount": amount,
        "currency": invoice.currency.lower(),
        "customer": card.customer,
        "payment_method": card.payment_method,
        "off_session": True,
        "confirm": True,
        "description": f"{invoice.seller_name} {display_number(invoice.number)}",
        "metadata": {"invoice_id": str(invoice.id), "company_id": str(invoice.company_id)},
    }
    return await asyncio.to_thread(provider.client.v1.payment_intents.create, params)  # type: ignore[arg-type]
