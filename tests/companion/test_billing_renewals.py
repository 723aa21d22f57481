"""The monthly invoice run: each new period invoiced once, credits with it, never negative."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from companion_server.billing import renewals, subscriptions
from companion_server.billing.cart import CartItem
from companion_server.billing.subscriptions import CancelMode
from companion_server.core import Core
from companion_server.invoicing.issue import lines_of
from companion_server.models import Invoice, ServiceCharge
from tests.companion.billing_common import World, world
from tests.companion.helpers import FakeClock
from tests.companion.invoicing_common import add_seller
from tests.companion.test_billing_checkout_invoice import _pay

START = datetime.fromisoformat("2026-01-10T09:00:00+00:00")


async def _subscribed(core: Core, clock: FakeClock, *items: CartItem) -> World:
    clock.now = START
    w = await world(core)
    await add_seller(core, w.company.id)
    receipt = await _pay(core, w.customer.id, w.installation.id, *items)
    assert receipt.invoice is not None
    return w


async def _invoices(core: Core) -> list[Invoice]:
    async with core.tx() as db:
        return list(await db.scalars(select(Invoice).order_by(Invoice.number)))


async def _cancel(core: Core, w: World, code: str, mode: CancelMode) -> None:
    async with core.tx() as db:
        subs = await subscriptions.of_customer(db, w.customer.id, w.installation.id)
        sub = next(s for s in subs if s.code == code)
        await subscriptions.cancel(db, sub, mode, core.now())


async def test_a_new_period_is_invoiced_once(core: Core, clock: FakeClock) -> None:
    w = await _subscribed(core, clock, CartItem("monitoring"))
    assert await renewals.invoice_renewals(core) == []  # the first month is paid already
    clock.now = START + timedelta(days=31)
    issued = await renewals.invoice_renewals(core)
    assert len(issued) == 1
    assert await renewals.invoice_renewals(core) == []
    clock.now = START + timedelta(days=40)
    assert await renewals.invoice_renewals(core) == []
    first, second = await _invoices(core)
    assert second.id == issued[0].id
    assert second.number == first.number + 1  # numbered without a gap
    assert second.customer_id == w.customer.id
    async with core.tx() as db:
        lines = await lines_of(db, second.id)
    assert [(line.net_cents, line.period_start, line.period_end) for line in lines] == [
        (2499, START.date().replace(month=2), START.date().replace(month=3))
    ]
    assert second.net_cents == 2499


async def test_a_credit_goes_with_the_next_period(core: Core, clock: FakeClock) -> None:
    w = await _subscribed(core, clock, CartItem("monitoring"), CartItem("backup"))
    clock.now = START + timedelta(days=15)
    await _cancel(core, w, "backup", CancelMode.NOW)
    clock.now = START + timedelta(days=31)
    (invoice,) = await renewals.invoice_renewals(core)
    async with core.tx() as db:
        lines = await lines_of(db, invoice.id)
    amounts = sorted(line.net_cents for line in lines)
    # Half a month of the backup (2.99 €) given back, with the monitoring's next month.
    assert len(amounts) == 2 and -299 < amounts[0] < 0 and amounts[1] == 2499
    assert invoice.net_cents == sum(amounts)


async def test_two_runs_at_once_invoice_a_period_once(core: Core, clock: FakeClock) -> None:
    await _subscribed(core, clock, CartItem("monitoring"))
    clock.now = START + timedelta(days=31)
    first, second = await asyncio.gather(
        renewals.invoice_renewals(core), renewals.invoice_renewals(core)
    )
    assert len(first) + len(second) == 1
    assert len(await _invoices(core)) == 2
    async with core.tx() as db:
        uninvoiced = await db.scalar(
            select(func.count())
            .select_from(ServiceCharge)
            .where(ServiceCharge.invoice_id.is_(None))
        )
    assert uninvoiced == 0


async def test_an_ended_service_is_not_renewed(core: Core, clock: FakeClock) -> None:
    w = await _subscribed(core, clock, CartItem("monitoring"))
    clock.now = START + timedelta(days=5)
    await _cancel(core, w, "monitoring", CancelMode.NOW)
    clock.now = START + timedelta(days=70)
    assert await renewals.invoice_renewals(core) == []
    assert len(await _invoices(core)) == 1
