"""Subscribing issues the invoice of what is due, once, in the customer's language."""

from __future__ import annotations

from sqlalchemy import select

from companion_server.billing import services
from companion_server.billing.cart import CartItem
from companion_server.core import Core
from companion_server.invoicing.issue import lines_of
from companion_server.models import Invoice, ServiceCharge, User
from tests.companion.billing_common import ADDRESS, world
from tests.companion.invoicing_common import add_seller, pdf_path, pdf_text


async def _pay(
    core: Core, customer_id: int, installation_id: int, *items: CartItem
) -> services.Receipt:
    async with core.tx() as db:
        installation = await services.owned_installation(db, customer_id, installation_id)
        priced = await services.quote(db, installation, items, core.now())
    receipt = await services.pay(
        core,
        customer_id,
        installation_id,
        items,
        ADDRESS,
        terms_accepted=True,
        expected_gross_cents=priced.gross_cents,
    )
    return receipt


async def test_paying_issues_the_invoice_of_the_charges_due(core: Core) -> None:
    w = await world(core)
    await add_seller(core, w.company.id)
    async with core.tx() as db:
        customer = await db.get(User, w.customer.id)
        assert customer is not None
        customer.language = "fr"
    receipt = await _pay(
        core, w.customer.id, w.installation.id, CartItem("monitoring"), CartItem("recording_7d", 2)
    )
    assert receipt.invoice is not None
    invoice_id = receipt.invoice.id
    async with core.tx() as db:
        invoice = await db.get(Invoice, invoice_id)
        assert invoice is not None
        lines = await lines_of(db, invoice_id)
        charges = (await db.scalars(select(ServiceCharge))).all()
    assert [(line.description, line.net_cents) for line in lines] == [
        ("Télésurveillance professionnelle", 2499),
        ("Enregistrement continu, 7 jours", 998),
    ]
    assert invoice.net_cents == 2499 + 998
    assert {charge.invoice_id for charge in charges} == {invoice_id}
    assert "Télésurveillance professionnelle" in pdf_text(pdf_path(core, invoice).read_bytes())


async def test_without_seller_details_the_charges_wait(core: Core) -> None:
    w = await world(core)
    receipt = await _pay(core, w.customer.id, w.installation.id, CartItem("monitoring"))
    assert receipt.invoice is None
    async with core.tx() as db:
        assert (await db.scalars(select(Invoice))).all() == []
        charges = (await db.scalars(select(ServiceCharge))).all()
    assert [charge.invoice_id for charge in charges] == [None]


async def test_the_button_shows_what_the_invoice_asks(core: Core) -> None:
    """VAT rounded per line as the invoice does: on the total it was a cent short here."""
    w = await world(core)
    await add_seller(core, w.company.id)
    cart = (CartItem("backup"), CartItem("recording_7d", 2))
    async with core.tx() as db:
        installation = await services.owned_installation(db, w.customer.id, w.installation.id)
        priced = await services.quote(db, installation, cart, core.now())
    # 2.99 € and 9.98 €: 0.598 € and 1.996 € of VAT, 2.60 € per line, 2.59 € on the total.
    assert (priced.net_cents, priced.vat_cents, priced.gross_cents) == (1297, 260, 1557)
    receipt = await _pay(core, w.customer.id, w.installation.id, *cart)
    assert receipt.invoice is not None
    assert receipt.invoice.gross_cents == priced.gross_cents
