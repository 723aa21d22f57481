"""Pay in advance (D6): who is asked, a replayed webhook, and a final invoice below the advance."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.errors import RuleViolation, ValidationFailed
from companion_server.invoicing import advances
from companion_server.invoicing.credit_notes import issue_credit_note
from companion_server.invoicing.interventions import invoice_intervention
from companion_server.invoicing.issue import lines_of
from companion_server.invoicing.store import store_of
from companion_server.models import Installation, Invoice, OutboxMessage, Payment
from tests.companion.billing_common import World, world
from tests.companion.helpers import BrowserFactory, FakeClock, make_company
from tests.companion.invoicing_common import add_seller
from tests.companion.stripe_common import paid_event, settings, signed
from tests.companion.test_invoicing_plan_pricing import finished_window, plan_holder
from tests.companion.tickets_common import linked_box

__all__ = ["settings"]

ESTIMATE = {"remote_hours": "2", "trips": "1", "city": "Lyon", "country": "FR"}


async def customer_without_plan(core: Core) -> World:
    w = await world(core)
    await add_seller(core, w.company.id)
    return w


async def gate_of(core: Core, w: World) -> advances.Gate:
    async with core.tx() as db:
        installation = await db.get(Installation, w.installation.id)
        assert installation is not None
        return await advances.gate(db, installation, core.now())


async def test_plan_holder_gets_no_advance_request(core: Core, clock: FakeClock) -> None:
    w = await plan_holder(core, "plan_smart")
    state = await gate_of(core, w)
    assert not state.required and state.allowed
    with pytest.raises(RuleViolation):
        await advances.issue_advance(core, w.admin.id, w.installation.id, ESTIMATE, store_of(core))
    async with core.tx() as db:
        assert not await db.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "advance_payment")
        )
        assert not await db.scalar(select(func.count()).select_from(Invoice))


async def test_company_without_invoicing_details_is_not_asked(core: Core) -> None:
    w = await world(core)
    state = await gate_of(core, w)
    assert not state.required and state.allowed


async def test_homeowner_without_customer_account_is_not_asked(core: Core) -> None:
    company = await make_company(core, "Solo")
    await add_seller(core, company.id)
    box = await linked_box(core, company, "Chalet", pin="123456789012")
    async with core.tx() as db:
        installation = await db.get(Installation, box.installation.id)
        assert installation is not None
        state = await advances.gate(db, installation, core.now())
    assert not state.required and state.allowed  # nobody to send an advance to


async def test_replayed_webhook_pays_the_advance_once(core: Core, browsers: BrowserFactory) -> None:
    w = await customer_without_plan(core)
    invoice = await advances.issue_advance(
        core, w.admin.id, w.installation.id, ESTIMATE, store_of(core)
    )
    assert not (await gate_of(core, w)).allowed
    client = await browsers.new()
    payload = paid_event(invoice, "evt_advance")
    url = "/api/payments/stripe/webhook"
    for duplicate in (False, True):
        answer = await client.request(
            "POST", url, data=payload, headers={"Stripe-Signature": signed(payload)}
        )
        assert (answer.status, json.loads(answer.text)["duplicate"]) == (200, duplicate)
    state = await gate_of(core, w)
    assert state.status == "paid" and state.allowed
    async with core.tx() as db:
        assert await db.scalar(select(func.count()).select_from(Payment)) == 1


async def test_work_below_the_advance_needs_a_credit_note_first(
    core: Core, clock: FakeClock
) -> None:
    w = await customer_without_plan(core)
    advance = await advances.issue_advance(
        core, w.admin.id, w.installation.id, ESTIMATE, store_of(core)
    )
    clock.advance(hours=3)  # the window opens after the advance is issued
    window_id = await finished_window(core, w, acted=True)  # 61 minutes: two started hours
    form = {"trips": "0", "city": "Lyon", "country": "FR"}
    with pytest.raises(ValidationFailed) as refused:
        await invoice_intervention(core, w.admin, window_id, form, store_of(core))
    assert "less than the advance" in refused.value.errors["window"]
    async with core.tx() as db:
        before = await db.scalar(select(func.count()).select_from(Invoice))
        # The trip was not needed: the advance's third line is credited.
        await issue_credit_note(
            db,
            company_id=w.company.id,
            invoice_id=advance.id,
            positions=[3],
            now=core.now(),
            store=store_of(core),
        )
    final = await invoice_intervention(core, w.admin, window_id, form, store_of(core))
    async with core.tx() as db:
        lines = await lines_of(db, final.id)
        assert await db.scalar(select(func.count()).select_from(Invoice)) == before + 2
    assert [line.net_cents for line in lines] == [5000, 5000, -10000]
    assert (final.net_cents, final.gross_cents) == (0, 0)
    state = await gate_of(core, w)
    assert state.status == "none" and not state.allowed
