"""Subscribe, cancel with proration, cancel the last service, reactivate; the charges handed
to invoicing, each billed once. Real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import tempfile

from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
import pytest
from sqlalchemy import func, select

from companion_server.billing import subscriptions
from companion_server.billing.cart import CartItem
from companion_server.billing.charges import mark_invoiced, uninvoiced_charges
from companion_server.billing.checkout import Address, checkout, quote
from companion_server.billing.subscriptions import CancelMode, Status
from companion_server.core import Core
from companion_server.errors import RuleViolation, ValidationFailed
from companion_server.models import BillingAddress, ServiceCharge, ServiceSubscription
from tests.companion.billing_common import ADDRESS, World, subscribe, world
from tests.companion.helpers import FakeClock

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="portal-hypothesis-"))

HYPOTHESIS = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


async def _charges(core: Core, w: World) -> list[tuple[str, int, int, date, date]]:
    async with core.tx() as db:
        rows = await db.scalars(
            select(ServiceCharge)
            .where(ServiceCharge.customer_id == w.customer.id)
            .order_by(ServiceCharge.id)
        )
        return [
            (r.source, r.quantity_milli, r.unit_price_cents, r.period_start, r.period_end)
            for r in rows
        ]


async def _cancel(
    core: Core, w: World, sub_id: int, mode: CancelMode = CancelMode.NOW
) -> subscriptions.Cancelled:
    async with core.tx() as db:
        sub = await subscriptions.owned(db, w.customer.id, sub_id)
        return await subscriptions.cancel(db, sub, mode, core.now())


async def _sub(core: Core, sub_id: int) -> ServiceSubscription:
    async with core.tx() as db:
        found = await db.get(ServiceSubscription, sub_id)
        assert found is not None
        return found


async def test_checkout_records_the_subscriptions_their_first_month_and_the_address(
    core: Core, clock: FakeClock
) -> None:
    w = await world(core)
    monitoring, recording = await subscribe(
        core, w, CartItem("monitoring"), CartItem("recording_7d", 2)
    )
    assert monitoring.monthly_price_cents == 2499 and recording.quantity == 2
    assert monitoring.started_on == date(2026, 3, 2) and monitoring.billed_until == date(2026, 4, 2)
    charges = await _charges(core, w)
    assert charges == [
        (
            f"subscription:{monitoring.id}:2026-03-02",
            1000,
            2499,
            date(2026, 3, 2),
            date(2026, 4, 2),
        ),
        (f"subscription:{recording.id}:2026-03-02", 2000, 499, date(2026, 3, 2), date(2026, 4, 2)),
    ]
    async with core.tx() as db:
        address = await db.get(BillingAddress, w.customer.id)
        assert address is not None and address.city == "Paris"
        # Already taken: neither the same service nor the other recording duration.
        for item in (CartItem("monitoring"), CartItem("recording_30d")):
            with pytest.raises(ValidationFailed):
                await quote(db, w.installation, (item,), core.now())


async def test_a_refused_checkout_changes_nothing(core: Core) -> None:
    w = await world(core)
    cart = (CartItem("backup"),)
    async with core.tx() as db:
        priced = await quote(db, w.installation, cart, core.now())
    assert (priced.net_cents, priced.vat_cents, priced.gross_cents) == (299, 60, 359)
    attempts = [
        {"terms_accepted": False, "address": ADDRESS, "expected_gross_cents": 359},
        {
            "terms_accepted": True,
            "address": Address("", "", "", "", "France"),
            "expected_gross_cents": 359,
        },
        {"terms_accepted": True, "address": ADDRESS, "expected_gross_cents": 100},
    ]
    for attempt in attempts:
        with pytest.raises(ValidationFailed):
            async with core.tx() as db:
                await checkout(
                    db,
                    customer_id=w.customer.id,
                    installation=w.installation,
                    cart=cart,
                    now=core.now(),
                    **attempt,  # type: ignore[arg-type]
                )
    async with core.tx() as db:
        assert await db.scalar(select(func.count()).select_from(ServiceSubscription)) == 0
        assert await db.get(BillingAddress, w.customer.id) is None
    # A plan needs a signed handover protocol on file.
    with pytest.raises(ValidationFailed) as refused:
        await subscribe(core, w, CartItem("plan_smart"))
    assert "handover" in refused.value.errors["cart"]


@HYPOTHESIS
@given(start=instants, days=st.integers(0, 45))
async def test_with_other_paid_services_the_unused_days_are_credited(
    core: Core, clock: FakeClock, start: datetime, days: int
) -> None:
    clock.now = start
    w = await world(core)
    monitoring, backup = await subscribe(core, w, CartItem("monitoring"), CartItem("backup"))
    clock.now = start + timedelta(days=days, hours=3)
    done = await _cancel(core, w, backup.id)
    ended = await _sub(core, backup.id)
    assert ended.ended_at is not None
    assert subscriptions.status_on(ended, done.ends_on) is Status.ENDED
    charges = await _charges(core, w)
    paid_for_backup = [c for c in charges if c[0].startswith(f"subscription:{backup.id}:")]
    credits = [c for c in charges if c[0] == f"credit:subscription:{backup.id}"]
    # The credit gives back part of the last period paid, never more.
    last_paid = paid_for_backup[-1][1] * paid_for_backup[-1][2] // 1000
    assert 0 <= done.credit_cents <= last_paid
    assert sum(-c[1] * c[2] // 1000 for c in credits) <= last_paid
    assert (await _sub(core, monitoring.id)).ends_on is None


@HYPOTHESIS
@given(start=instants, days=st.integers(0, 27))
async def test_cancel_at_period_end_then_reactivate_leaves_the_charges_unchanged(
    core: Core, clock: FakeClock, start: datetime, days: int
) -> None:
    clock.now = start
    w = await world(core)
    (monitoring,) = await subscribe(core, w, CartItem("monitoring"))
    clock.now = start + timedelta(days=days)
    before = await _charges(core, w)
    done = await _cancel(core, w, monitoring.id, CancelMode.PERIOD_END)
    ending = await _sub(core, monitoring.id)
    assert done.ends_on == ending.billed_until and done.credit_cents == 0
    assert subscriptions.status_on(ending, subscriptions.today_of(ending, clock.now)) is (
        Status.ENDING
    )
    async with core.tx() as db:
        sub = await subscriptions.owned(db, w.customer.id, monitoring.id)
        await subscriptions.reactivate(sub, core.now())
    assert (await _sub(core, monitoring.id)).ends_on is None
    assert await _charges(core, w) == before


async def test_the_last_paid_service_ends_now_or_at_the_end_of_its_period(
    core: Core, clock: FakeClock
) -> None:
    w = await world(core)
    monitoring, backup = await subscribe(core, w, CartItem("monitoring"), CartItem("backup"))
    clock.advance(days=10)
    await _cancel(core, w, backup.id)
    done = await _cancel(core, w, monitoring.id, CancelMode.PERIOD_END)
    assert done.ends_on == date(2026, 4, 2)
    async with core.tx() as db:
        lines = await uninvoiced_charges(
            db, company_id=w.company.id, customer_id=w.customer.id, until=date(2026, 12, 31)
        )
    # Nothing is charged past the end; the backup's credit is on the next invoice.
    assert [line.source for line in lines] == [
        f"subscription:{monitoring.id}:2026-03-02",
        f"subscription:{backup.id}:2026-03-02",
        f"credit:subscription:{backup.id}",
    ]
    assert lines[2].net_cents == -(299 * 21 // 31)  # 21 of the 31 days of March-April unused
    with pytest.raises(RuleViolation):
        await _cancel(core, w, monitoring.id)  # already being cancelled
    clock.advance(days=30)  # 11 April: the cancelled monitoring ended on 2 April
    assert (
        subscriptions.status_on(await _sub(core, monitoring.id), date(2026, 4, 2)) is Status.ENDED
    )
    # Cancelled now, the days are lost: no credit.
    (second,) = await subscribe(core, w, CartItem("monitoring"))
    done = await _cancel(core, w, second.id, CancelMode.NOW)
    assert done.credit_cents == 0 and (await _sub(core, second.id)).ended_at is not None
    with pytest.raises(RuleViolation):
        async with core.tx() as db:
            await subscriptions.reactivate(
                await subscriptions.owned(db, w.customer.id, second.id), core.now()
            )


async def test_periods_are_charged_once_and_marked_with_their_invoice(
    core: Core, clock: FakeClock
) -> None:
    w = await world(core)
    (sub,) = await subscribe(core, w, CartItem("recording_30d", 3))
    clock.advance(days=70)
    async with core.tx() as db:
        lines = await uninvoiced_charges(
            db, company_id=w.company.id, customer_id=w.customer.id, until=date(2026, 5, 2)
        )
        assert [(line.period_start, line.net_cents) for line in lines] == [
            (date(2026, 3, 2), 2997),
            (date(2026, 4, 2), 2997),
            (date(2026, 5, 2), 2997),
        ]
        await mark_invoiced(db, sources=[lines[0].source, lines[1].source], invoice_id=7)
        await mark_invoiced(db, sources=[lines[0].source], invoice_id=8)  # already billed
    async with core.tx() as db:
        again = await uninvoiced_charges(
            db, company_id=w.company.id, customer_id=w.customer.id, until=date(2026, 5, 2)
        )
        assert [line.source for line in again] == [lines[2].source]
        first = await db.scalar(
            select(ServiceCharge).where(ServiceCharge.source == lines[0].source)
        )
        assert first is not None and first.invoice_id == 7
    other = await world(core)
    async with core.tx() as db:
        assert not await uninvoiced_charges(
            db, company_id=other.company.id, customer_id=w.customer.id, until=date(2026, 5, 2)
        )
        assert sub.id
