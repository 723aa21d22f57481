"""The monthly invoice run e-mails each invoice it issues, once, through a real SMTP server.

The mail is queued in the outbox in the invoicing transaction: one per invoice, none when
nothing is invoiced, one when two runs race, and delivered by another instance after a
restart. Both databases (the ``database_url`` fixture), an aiosmtpd peer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from aiohttp.test_utils import TestServer
import pytest

from companion_server.app_keys import CORE
from companion_server.billing import renewals
from companion_server.billing.cart import CartItem
from companion_server.billing.money import euros
from companion_server.core import Core
from companion_server.invoicing.labels import display_number
from companion_server.invoicing.payments.saved_card import SavedCard
from companion_server.mail import worker
from companion_server.models import User
from tests.companion.billing_common import World, world
from tests.companion.helpers import FakeClock, mails
from tests.companion.invoicing_common import add_seller
from tests.companion.stripe_common import card_on_file
from tests.companion.test_billing_checkout_invoice import _pay
from tests.companion.test_mail import SmtpServer, mail_settings, running_smtp, smtp, start_portal

__all__ = ["running_smtp", "smtp"]

START = datetime.fromisoformat("2026-01-10T09:00:00+00:00")
PUBLIC = "http://portal.example"


@pytest.fixture
async def portal(
    database_url: str, running_smtp: SmtpServer, clock: FakeClock
) -> AsyncIterator[TestServer]:
    clock.now = START
    server = await start_portal(mail_settings(database_url, running_smtp, public_url=PUBLIC), clock)
    try:
        yield server
    finally:
        await server.close()


async def _subscribed(core: Core, language: str = "fr") -> World:
    w = await world(core)
    await add_seller(core, w.company.id)
    async with core.tx() as db:
        customer = await db.get(User, w.customer.id)
        assert customer is not None
        customer.language = language
    receipt = await _pay(core, w.customer.id, w.installation.id, CartItem("monitoring"))
    assert receipt.invoice is not None
    return w


async def test_each_renewal_invoice_is_mailed_once_in_the_customers_language(
    portal: TestServer, running_smtp: SmtpServer, clock: FakeClock, database_url: str
) -> None:
    core: Core = portal.app[CORE]
    w = await _subscribed(core)
    assert await renewals.invoice_renewals(core) == []  # the first month is paid already
    assert await mails(core, w.customer.email) == []
    clock.now = START + timedelta(days=31)
    (invoice,) = await renewals.invoice_renewals(core)
    assert await renewals.invoice_renewals(core) == []
    # Queued with the invoice: another instance delivers it after this one stopped.
    await portal.close()
    other = await start_portal(mail_settings(database_url, running_smtp, public_url=PUBLIC), clock)
    try:
        assert await worker.deliver_due(other.app[CORE]) == 1
        assert await worker.deliver_due(other.app[CORE]) == 0
    finally:
        await other.close()
    (message,) = running_smtp.inbox.messages
    assert message["To"] == w.customer.email
    number = display_number(invoice.number)
    assert str(message["Subject"]) == (
        f"{w.company.name} : votre facture {number} de {euros(invoice.gross_cents, 'fr')}"
    )
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert f"{PUBLIC}/my-invoices/{invoice.id}" in body
    assert "par virement" in body and "carte que vous avez enregistrée" not in body


async def test_nothing_invoiced_nothing_mailed(
    portal: TestServer, running_smtp: SmtpServer, clock: FakeClock
) -> None:
    core: Core = portal.app[CORE]
    await _subscribed(core)
    clock.now = START + timedelta(days=20)  # the next period has not started
    assert await renewals.invoice_renewals(core) == []
    assert await worker.deliver_due(core) == 0
    assert running_smtp.inbox.messages == []


async def test_two_runs_at_once_mail_the_invoice_once(
    portal: TestServer, running_smtp: SmtpServer, clock: FakeClock
) -> None:
    core: Core = portal.app[CORE]
    w = await _subscribed(core, language="en")
    # The customer pays this company by the card they saved: the mail says so.
    await card_on_file(core, w, SavedCard("cus_1", "pm_1", "visa", "4242"))
    clock.now = START + timedelta(days=31)
    first, second = await asyncio.gather(
        renewals.invoice_renewals(core), renewals.invoice_renewals(core)
    )
    assert len(first) + len(second) == 1
    await asyncio.gather(worker.deliver_due(core), worker.deliver_due(core))
    (message,) = running_smtp.inbox.messages
    assert "your invoice" in str(message["Subject"])
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert "charged to the card you saved" in body
