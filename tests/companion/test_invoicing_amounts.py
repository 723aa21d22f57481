"""Amounts: per started hour, discounts at their bounds, totals and credit notes (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st
import pytest

from companion_server.invoicing.amounts import percent_of, totals
from companion_server.invoicing.lines import ChargeLine
from companion_server.invoicing.pricing import (
    HOUR_CENTS,
    TRIP_CENTS,
    Work,
    intervention_lines,
    started_hours,
    unit_price,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "hours"),
    [(0, 0), (1, 1), (60, 1), (3599, 1), (3600, 1), (3601, 2), (61 * 60, 2), (7200, 2)],
)
def test_every_started_hour_counts(seconds: int, hours: int) -> None:
    assert started_hours(seconds) == hours


@pytest.mark.parametrize(
    ("basis_points", "hour", "trip"),
    [(0, 5000, 10000), (1000, 4500, 9000), (1500, 4250, 8500), (333, 4833, 9667), (10000, 0, 0)],
)
def test_discount_applies_to_hours_and_trips(basis_points: int, hour: int, trip: int) -> None:
    assert (unit_price(HOUR_CENTS, basis_points), unit_price(TRIP_CENTS, basis_points)) == (
        hour,
        trip,
    )


@pytest.mark.parametrize("basis_points", [-1, 10001])
def test_discount_outside_bounds_is_refused(basis_points: int) -> None:
    with pytest.raises(ValueError, match="discount"):
        unit_price(HOUR_CENTS, basis_points)


def test_lines_per_hour_and_trip_name_the_recorded_window() -> None:
    work = Work(7, START, START + timedelta(minutes=61), on_site_minutes=1, trips=2)
    lines = intervention_lines(work, discount_basis_points=1000, vat_rate_basis_points=2000)
    assert [line.source for line in lines] == [
        "intervention:7:remote:1",
        "intervention:7:remote:2",
        "intervention:7:onsite:1",
        "intervention:7:trip:1",
        "intervention:7:trip:2",
    ]
    assert [line.unit_price_cents for line in lines] == [4500, 4500, 4500, 9000, 9000]
    params = dict(lines[0].description_params)
    assert (params["start"], params["end"], params["percent"]) == (
        "2026-03-02 09:00:00",
        "2026-03-02 10:01:00",
        "10",
    )
    exact = Work(8, START, START + timedelta(minutes=60), on_site_minutes=0, trips=0)
    assert len(intervention_lines(exact, discount_basis_points=0, vat_rate_basis_points=2000)) == 1


charge_lines = st.builds(
    ChargeLine,
    source=st.just("s"),
    description_key=st.just("d"),
    description_params=st.just(()),
    quantity_milli=st.integers(1, 100_000),
    unit_price_cents=st.integers(-100_000, 1_000_000),
    vat_rate_basis_points=st.sampled_from([0, 550, 1000, 2000, 2100]),
)


@given(st.lists(charge_lines, min_size=1, max_size=20))
def test_every_amount_is_reproducible_from_the_lines(lines: list[ChargeLine]) -> None:
    result = totals((line.net_cents, line.vat_rate_basis_points) for line in lines)
    assert result.net_cents == sum(line.net_cents for line in lines)
    assert result.vat_cents == sum(
        percent_of(line.net_cents, line.vat_rate_basis_points) for line in lines
    )
    assert result.gross_cents == result.net_cents + result.vat_cents
    assert sum(g.net_cents for g in result.groups) == result.net_cents
    for line in lines:
        exact = line.quantity_milli * line.unit_price_cents / 1000
        assert abs(line.net_cents - exact) <= 0.5


@given(st.lists(charge_lines, min_size=1, max_size=12), st.data())
def test_credit_notes_add_up_to_the_invoice_at_most(
    lines: list[ChargeLine], data: st.DataObject
) -> None:
    positive = [line for line in lines if line.unit_price_cents >= 0] or [lines[0]]
    indices = list(range(len(positive)))
    order = data.draw(st.permutations(indices))
    cut = data.draw(st.integers(0, len(order)))
    parts = [order[:cut], order[cut:]]
    invoice = totals((line.net_cents, line.vat_rate_basis_points) for line in positive)
    credited = sum(
        totals((positive[i].net_cents, positive[i].vat_rate_basis_points) for i in part).gross_cents
        for part in parts
        if part
    )
    assert credited == invoice.gross_cents
    first = totals((positive[i].net_cents, positive[i].vat_rate_basis_points) for i in parts[0])
    assert first.gross_cents <= invoice.gross_cents or any(
        positive[i].unit_price_cents < 0 for i in indices
    )
