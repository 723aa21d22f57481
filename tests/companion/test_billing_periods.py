"""Monthly periods, proration and the plan window: month ends, leap years, DST, boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import tempfile

from hypothesis import given, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from companion_server.billing.periods import (
    MILLI,
    add_months,
    local_date,
    next_period_end,
    period_start_of,
    unused_milli,
)
from companion_server.billing.plans import last_plan_start, may_start_plan
from companion_server.invoicing.lines import ChargeLine
from companion_server.models import InstallationHandover

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="portal-hypothesis-"))

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))
prices = st.integers(min_value=1, max_value=1_000_000)


def test_the_31st_falls_back_to_the_month_end_and_comes_back() -> None:
    start = date(2027, 1, 31)
    ends = [start]
    for _ in range(3):
        ends.append(next_period_end(ends[-1], 31))
    assert ends == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    assert next_period_end(date(2028, 1, 31), 31) == date(2028, 2, 29)  # leap year
    assert next_period_end(date(2028, 2, 29), 29) == date(2028, 3, 29)
    assert add_months(date(2026, 12, 15), 1, 15) == date(2027, 1, 15)


@settings(max_examples=400, deadline=None, database=None)
@given(days)
def test_a_period_is_a_calendar_month_and_goes_back_to_its_start(start: date) -> None:
    end = next_period_end(start, start.day)
    assert 28 <= (end - start).days <= 31
    assert period_start_of(end, start.day) == start


@settings(max_examples=400, deadline=None, database=None)
@given(days, st.integers(-5, 40), prices, st.integers(1, 8))
def test_a_credit_never_exceeds_what_was_paid(
    start: date, offset: int, price: int, cameras: int
) -> None:
    end = next_period_end(start, start.day)
    today = start + timedelta(days=offset)
    milli = unused_milli(start, end, today) * cameras
    paid = ChargeLine("p", "k", (), cameras * MILLI, price, 2000).net_cents
    credit = ChargeLine("c", "k", (), milli, -price, 2000).net_cents
    assert 0 <= -credit <= paid
    if today >= end:
        assert credit == 0
    if today <= start:
        assert -credit == paid


@settings(max_examples=200, deadline=None, database=None)
@given(days, st.integers(0, 30), st.integers(0, 30))
def test_the_later_the_cancellation_the_smaller_the_credit(
    start: date, first: int, second: int
) -> None:
    end = next_period_end(start, start.day)
    early, late = sorted((first, second))
    assert unused_milli(start, end, start + timedelta(days=late)) <= unused_milli(
        start, end, start + timedelta(days=early)
    )


def test_days_are_counted_in_the_company_time_zone_across_dst() -> None:
    # 22:30 UTC on the last Saturday of October is already Sunday in Paris (summer time),
    # and the night the clocks go back still belongs to that Sunday.
    assert local_date(datetime(2026, 10, 24, 22, 30, tzinfo=UTC), "Europe/Paris") == date(
        2026, 10, 25
    )
    assert local_date(datetime(2026, 10, 25, 22, 59, tzinfo=UTC), "Europe/Paris") == date(
        2026, 10, 25
    )
    assert local_date(datetime(2026, 10, 25, 23, 0, tzinfo=UTC), "Europe/Paris") == date(
        2026, 10, 26
    )
    # Spring: the short night of March still makes one day.
    assert local_date(datetime(2026, 3, 28, 23, 0, tzinfo=UTC), "Europe/Paris") == date(2026, 3, 29)
    assert local_date(datetime(2026, 3, 29, 21, 59, tzinfo=UTC), "Europe/Paris") == date(
        2026, 3, 29
    )
    assert local_date(datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "America/New_York") == date(
        2026, 3, 29
    )


def _handover(signed_on: date, document: int | None = 1) -> InstallationHandover:
    return InstallationHandover(installation_id=1, signed_on=signed_on, document_id=document)


def test_a_plan_starts_only_within_three_months_of_the_signed_handover() -> None:
    signed = date(2026, 11, 30)
    assert last_plan_start(signed) == date(2027, 2, 28)
    assert may_start_plan(_handover(signed), date(2026, 11, 30))
    assert may_start_plan(_handover(signed), date(2027, 2, 28))
    assert not may_start_plan(_handover(signed), date(2027, 3, 1))
    assert not may_start_plan(_handover(signed), date(2026, 11, 29))
    assert not may_start_plan(_handover(signed, document=None), date(2026, 12, 1))
    assert not may_start_plan(None, date(2026, 12, 1))
    mid = date(2026, 5, 15)
    assert may_start_plan(_handover(mid), date(2026, 8, 15))
    assert not may_start_plan(_handover(mid), date(2026, 8, 16))
    leap = date(2027, 11, 29)
    assert last_plan_start(leap) == date(2028, 2, 29)
