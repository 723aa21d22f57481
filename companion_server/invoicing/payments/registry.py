"""The providers the portal's settings switch on: bank transfer always, card with keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.invoicing.payments.card import CardPayments

if TYPE_CHECKING:
    from companion_server.core import Core


def card_provider(core: Core) -> CardPayments | None:
    """Stripe, when its secret key and webhook secret are set."""
    settings = core.settings
    if not settings.stripe_secret_key or not settings.stripe_webhook_secret:
        return None
    return CardPayments(settings.stripe_secret_key, settings.stripe_webhook_secret)
