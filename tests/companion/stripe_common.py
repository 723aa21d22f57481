"""Card payments in tests: settings with Stripe's test keys, its recorded responses, webhooks.

No network: :class:`StripeReplay` stands in for the SDK's HTTP client, answering the recorded
responses (``tests/companion/recorded``) in turn and keeping what the portal asked. A test
module turns card payments on by importing the ``settings`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
import hmac
import json
from pathlib import Path
import time
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

from companion_server.core import Core
from companion_server.invoicing.payments.saved_card import SavedCard
from companion_server.models import Invoice, PaymentMethod
from companion_server.settings import Settings
from tests.companion.billing_common import World
from tests.companion.conftest import fast_settings

RECORDED = Path(__file__).parent / "recorded"
WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
# An answer's body: as recorded, or made from the request's form (an amount it echoes).
Body = dict[str, Any] | Callable[[dict[str, list[str]]], dict[str, Any]]


def card_settings(database_url: str, tmp_path: Path) -> Settings:
    """Card payments on (test keys): the webhook route is live."""
    return fast_settings(
        database_url,
        public_url="http://127.0.0.1:8080",
        documents_dir=str(tmp_path / "documents"),
        stripe_secret_key="sk_test_recorded",
        stripe_webhook_secret=WEBHOOK_SECRET,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Card payments on."""
    return card_settings(database_url, tmp_path)


def recorded(name: str, **metadata: str) -> dict[str, Any]:
    """A recorded response, its metadata naming this test's rows."""
    body: dict[str, Any] = json.loads((RECORDED / name).read_text())
    body.setdefault("metadata", {}).update(metadata)
    return body


class Asked(NamedTuple):
    """A request the portal made: method, URL without its query, path, form (or query)."""

    method: str
    url: str
    path: str
    form: dict[str, list[str]]


class StripeReplay(stripe.HTTPClient):
    """Stripe's HTTP boundary: each request gets the next answer, ``(status, body)``."""

    name = "replay"

    def __init__(self, *answers: tuple[int, Body]) -> None:
        super().__init__()
        self.answers: list[tuple[int, Body]] = list(answers)
        self.requests: list[Asked] = []

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        parts = urlsplit(url)
        form = parse_qs(post_data or "") or parse_qs(parts.query)
        base = f"{parts.scheme}://{parts.netloc}{parts.path}"
        self.requests.append(Asked(method, base, parts.path, form))
        status, body = self.answers.pop(0)
        answer = body(form) if callable(body) else body
        return json.dumps(answer), status, {"request-id": "req_recorded"}

    def close(self) -> None:
        return None


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """The ``Stripe-Signature`` header of a webhook payload."""
    timestamp = at if at is not None else int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verified(payload: bytes) -> stripe.Event:
    """A webhook payload as the portal has it once its signature is checked."""
    return stripe.Event.construct_from(json.loads(payload), "sk_test")


def paid_event(invoice: Invoice, event_id: str = "evt_1", amount: int | None = None) -> bytes:
    """Stripe's webhook event: the checkout of ``invoice`` paid (its gross, or ``amount``)."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "checkout.session.completed",
            "created": 1772438400,
            "data": {
                "object": {
                    "id": "cs_test_1",
                    "object": "checkout.session",
                    "payment_status": "paid",
                    "payment_intent": f"pi_{event_id}",
                    "amount_total": invoice.gross_cents if amount is None else amount,
                    "metadata": {
                        "invoice_id": str(invoice.id),
                        "company_id": str(invoice.company_id),
                    },
                }
            },
        }
    ).encode()


async def card_on_file(core: Core, w: World, card: SavedCard) -> None:
    """``w``'s customer has saved ``card`` to pay ``w``'s company with."""
    async with core.tx() as db:
        db.add(
            PaymentMethod(
                customer_id=w.customer.id,
                company_id=w.company.id,
                provider="card",
                detail=card.dump(),
                updated_at=core.now(),
            )
        )
