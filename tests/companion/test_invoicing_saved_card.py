"""A card saved with Stripe (S9), at Stripe's HTTP boundary with recorded responses.

No network here: the SDK's HTTP client is replaced by one that answers Stripe's recorded
responses in turn and keeps what the portal asked (:mod:`tests.companion.stripe_common`).
"""

from __future__ import annotations

import functools
import json

import pytest
from sqlalchemy import select

from companion_server.billing import services
from companion_server.billing.cart import CartItem
from companion_server.billing.checkout import quote
from companion_server.core import Core
from companion_server.invoicing.payments import registry
from companion_server.invoicing.payments.base import balance
from companion_server.invoicing.payments.card import CardPayments
from companion_server.invoicing.payments.saved_card import SavedCard
from companion_server.models import Invoice, PaymentMethod
from tests.companion.billing_common import ADDRESS, World, subscribe, world
from tests.companion.helpers import BrowserFactory
from tests.companion.invoicing_common import add_seller
from tests.companion.stripe_common import StripeReplay, card_on_file, recorded, settings

__all__ = ["settings"]


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch) -> StripeReplay:
    client = StripeReplay()
    monkeypatch.setattr(
        registry, "CardPayments", functools.partial(CardPayments, http_client=client)
    )
    return client


async def paying(core: Core) -> World:
    """A customer with a running paid service (professional monitoring)."""
    w = await world(core)
    await subscribe(core, w, CartItem("monitoring"))
    return w


async def test_no_paid_service_no_payment_method(core: Core, browsers: BrowserFactory) -> None:
    w = await world(core)
    hana = await browsers.new()
    assert (await hana.login(w.customer.email)).status == 303
    page = await hana.get("/my-invoices/payment-method")
    assert page.status == 404 and "while a paid service is active" in page.text
    assert (await hana.post("/my-invoices/payment-method/card", {})).status == 404
    assert (await hana.post("/my-invoices/payment-method", {"provider": "bank"})).status == 404
    assert 'href="/my-invoices/payment-method"' not in (await hana.get("/my-invoices")).raw


async def test_card_saved_through_checkout_setup_and_shown(
    core: Core, browsers: BrowserFactory, replay: StripeReplay
) -> None:
    w = await paying(core)
    hana = await browsers.new()
    assert (await hana.login(w.customer.email)).status == 303
    page = await hana.get("/my-invoices/payment-method")
    assert page.status == 200 and "Save a card" in page.text and "data-saved-card" not in page.raw
    refused = await hana.post("/my-invoices/payment-method", {"provider": "card"})
    assert refused.status == 400 and "Save a card first." in refused.text
    mine = {"customer_id": str(w.customer.id)}
    replay.answers.append((200, recorded("stripe_setup_session.json", **mine)))
    opened = await hana.post("/my-invoices/payment-method/card", {})
    assert opened.status == 303
    assert opened.location == "https://checkout.stripe.com/c/pay/cs_test_setup_c0ffee01"
    method, _, path, form = replay.requests[-1]
    assert (method, path) == ("post", "/v1/checkout/sessions")
    assert form["mode"] == ["setup"] and form["metadata[customer_id]"] == [str(w.customer.id)]
    assert form["success_url"] == [
        "http://127.0.0.1:8080/my-invoices/payment-method/card/done"
        "?session_id={CHECKOUT_SESSION_ID}"
    ]
    replay.answers.append((200, recorded("stripe_setup_session_complete.json", **mine)))
    replay.answers.append((200, recorded("stripe_customer.json", **mine)))
    back = await hana.get("/my-invoices/payment-method/card/done?session_id=cs_test_setup_c0ffee01")
    assert back.status == 303 and back.location == "/my-invoices/payment-method"
    (*_, retrieved, query), (*_, created, customer) = replay.requests[-2:]
    assert retrieved == "/v1/checkout/sessions/cs_test_setup_c0ffee01"
    assert query["expand[0]"] == ["setup_intent.payment_method"]
    assert created == "/v1/customers" and customer["payment_method"] == ["pm_1QxAbCdEfGhIjKlN"]
    page = await hana.get("/my-invoices/payment-method")
    assert "Saved card: Visa ending in 4242" in page.text
    async with core.tx() as db:
        row = await db.get(PaymentMethod, (w.customer.id, w.company.id))
        assert row is not None and row.provider == "card"
        assert json.loads(row.detail)["customer"] == "cus_RxAbCdEfGhIjKl"
    listing = await hana.get("/my-invoices")
    assert "Current method: Card ending in 4242" in listing.text


async def test_session_of_another_customer_is_not_saved(
    core: Core, browsers: BrowserFactory, replay: StripeReplay
) -> None:
    w = await paying(core)
    hana = await browsers.new()
    assert (await hana.login(w.customer.email)).status == 303
    replay.answers.append(
        (200, recorded("stripe_setup_session_complete.json", customer_id=str(w.customer.id + 1)))
    )
    back = await hana.get("/my-invoices/payment-method/card/done?session_id=cs_test_setup_c0ffee01")
    assert back.status == 404
    assert [asked.path for asked in replay.requests] == [
        "/v1/checkout/sessions/cs_test_setup_c0ffee01"
    ]  # no Stripe customer made, nothing kept
    async with core.tx() as db:
        assert await db.get(PaymentMethod, (w.customer.id, w.company.id)) is None


# The card the recorded setup saves (Stripe's ids of ``stripe_customer.json``).
CARD = SavedCard("cus_RxAbCdEfGhIjKl", "pm_1QxAbCdEfGhIjKlN", "visa", "4242")


async def _subscribe_more(core: Core, w: World) -> Invoice:
    items = [CartItem("recording_7d")]
    async with core.tx() as db:
        priced = await quote(db, w.installation, items, core.now())
    receipt = await services.pay(
        core,
        w.customer.id,
        w.installation.id,
        items,
        ADDRESS,
        terms_accepted=True,
        expected_gross_cents=priced.gross_cents,
    )
    assert receipt.invoice is not None
    return receipt.invoice


async def test_next_subscription_invoice_is_charged_to_the_saved_card(
    core: Core, replay: StripeReplay
) -> None:
    w = await paying(core)
    await add_seller(core, w.company.id)
    await card_on_file(core, w, CARD)
    answer = recorded("stripe_payment_intent_succeeded.json")
    # Stripe charges what was asked: the recorded intent carries the requested amount.
    replay.answers.append((200, lambda form: {**answer, "amount": int(form["amount"][0])}))
    invoice = await _subscribe_more(core, w)
    method, _, path, form = replay.requests[-1]
    assert (method, path) == ("post", "/v1/payment_intents")
    assert form["amount"] == [str(invoice.gross_cents)] and form["off_session"] == ["true"]
    assert form["customer"] == ["cus_RxAbCdEfGhIjKl"]
    assert form["payment_method"] == ["pm_1QxAbCdEfGhIjKlN"]
    async with core.tx() as db:
        state = await balance(db, invoice)
    assert state.status == "paid"


async def test_declined_card_leaves_the_invoice_open(core: Core, replay: StripeReplay) -> None:
    w = await paying(core)
    await add_seller(core, w.company.id)
    await card_on_file(core, w, CARD)
    replay.answers.append((402, recorded("stripe_card_declined.json")))
    invoice = await _subscribe_more(core, w)
    async with core.tx() as db:
        state = await balance(db, invoice)
        assert state.status == "open"
        assert await db.scalar(select(Invoice.id).where(Invoice.id == invoice.id))
