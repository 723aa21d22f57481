"""An intervention's price follows the customer's support plan, never a typed discount.

The plan running when the window opened gives its discount on every hour and trip; its
holders' remote diagnostics (a window in which nothing was done) bill no remote hour.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from companion_server.billing.cart import CartItem
from companion_server.core import Core
from companion_server.errors import ValidationFailed
from companion_server.invoicing.interventions import finished_terms, invoice_intervention
from companion_server.invoicing.issue import lines_of
from companion_server.invoicing.store import store_of
from companion_server.journal import log
from companion_server.models import Installation, RemoteWindow
from tests.companion.billing_common import World, handover, subscribe, world
from tests.companion.helpers import FakeClock
from tests.companion.invoicing_common import add_seller

FORM = {"trips": "1", "street": "1 Rue", "city": "Lyon", "country": "FR"}


async def finished_window(core: Core, w: World, *, acted: bool) -> int:
    """A window of 61 minutes that ended an hour ago; an action's result in it if ``acted``."""
    start = core.now() - timedelta(hours=2)
    async with core.tx() as db:
        window = RemoteWindow(
            installation_id=w.installation.id,
            state="ended",
            kinds="[]",
            hours=8,
            until=start + timedelta(hours=8),
            requested_at=start - timedelta(minutes=5),
            changed_at=start + timedelta(minutes=61),
        )
        db.add(window)
        installation = await db.get(Installation, w.installation.id)
        assert installation is not None
        log(db, installation, start, "window_granted")
        if acted:
            log(db, installation, start + timedelta(minutes=20), "action_result")
        await db.flush()
        return window.id


async def plan_holder(core: Core, code: str) -> World:
    w = await world(core)
    await add_seller(core, w.company.id)
    await handover(core, w.installation, date(2026, 2, 1))
    await subscribe(core, w, CartItem(code))
    return w


async def test_the_plan_s_discount_comes_off_every_hour_and_trip(
    core: Core, clock: FakeClock
) -> None:
    w = await plan_holder(core, "plan_smart")
    window_id = await finished_window(core, w, acted=True)
    async with core.tx() as db:
        _, terms = await finished_terms(db, w.company.id, window_id)
    assert (terms.plan.code, terms.discount_percent, terms.free_remote) == (
        "plan_smart",
        "10",
        False,
    )
    invoice = await invoice_intervention(core, w.admin, window_id, FORM, store_of(core))
    async with core.tx() as db:
        lines = await lines_of(db, invoice.id)
    assert [line.unit_price_cents for line in lines] == [4500, 4500, 9000]
    assert all("less 10 %" in line.description for line in lines)


async def test_remote_diagnostics_are_free_for_plan_holders(core: Core, clock: FakeClock) -> None:
    w = await plan_holder(core, "plan_premium")
    window_id = await finished_window(core, w, acted=False)
    async with core.tx() as db:
        _, terms = await finished_terms(db, w.company.id, window_id)
    assert terms.free_remote
    # Only looking bills nothing remote: the trip alone, less Premium's 20 %.
    invoice = await invoice_intervention(core, w.admin, window_id, FORM, store_of(core))
    async with core.tx() as db:
        lines = await lines_of(db, invoice.id)
    assert [line.unit_price_cents for line in lines] == [8000]
    # Without a trip or time on site there is nothing to invoice.
    other = await finished_window(core, w, acted=False)
    with pytest.raises(ValidationFailed) as caught:
        await invoice_intervention(core, w.admin, other, {**FORM, "trips": "0"}, store_of(core))
    assert "free" in caught.value.errors["window"]


async def test_without_a_paid_plan_diagnostics_are_billed(core: Core, clock: FakeClock) -> None:
    w = await world(core)
    await add_seller(core, w.company.id)
    window_id = await finished_window(core, w, acted=False)
    async with core.tx() as db:
        _, terms = await finished_terms(db, w.company.id, window_id)
    assert (terms.plan.code, terms.free_remote) == ("plan_basic", False)
    invoice = await invoice_intervention(core, w.admin, window_id, FORM, store_of(core))
    async with core.tx() as db:
        lines = await lines_of(db, invoice.id)
    assert [line.unit_price_cents for line in lines] == [5000, 5000, 10000]
