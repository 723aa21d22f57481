"""Interventions' prices: every started hour and every trip, less the plan's discount.

A service hour (remote or on site) is 50 € and a trip 100 €, excluding VAT; any started hour
counts whole (1 minute is one hour, 60 minutes one hour, 61 minutes two). The discount of
the customer's support plan (basis points: 1 000 = 10 %) comes off each unit's price,
rounded half away from zero to the cent, so every line can be checked on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion_server.i18n import N_
from companion_server.invoicing.amounts import percent_of
from companion_server.invoicing.lines import ChargeLine

if TYPE_CHECKING:
    from datetime import datetime

HOUR_CENTS = 5000
TRIP_CENTS = 10000
HOUR_SECONDS = 3600
MAX_DISCOUNT = 10000
# Each description with the discount spelled out and without it (no discount).
REMOTE_HOUR = (
    N_("Service hour {number} of {count}, remote, {start} to {end} UTC"),
    N_("Service hour {number} of {count}, remote, {start} to {end} UTC, less {percent} %"),
)
ON_SITE_HOUR = (
    N_("Service hour {number} of {count}, on site ({minutes} min)"),
    N_("Service hour {number} of {count}, on site ({minutes} min), less {percent} %"),
)
TRIP = (
    N_("Service trip {number} of {count}"),
    N_("Service trip {number} of {count}, less {percent} %"),
)


def started_hours(seconds: int) -> int:
    """How many started hours ``seconds`` of work are (none for no time at all)."""
    if seconds < 0:
        raise ValueError("negative duration")
    return -(-seconds // HOUR_SECONDS)


def unit_price(list_cents: int, discount_basis_points: int) -> int:
    """A unit's price after the plan's discount."""
    if not 0 <= discount_basis_points <= MAX_DISCOUNT:
        raise ValueError("discount outside 0-100 %")
    return list_cents - percent_of(list_cents, discount_basis_points)


@dataclass(frozen=True, slots=True)
class Work:
    """What an intervention took: the remote window used, minutes on site, trips."""

    intervention_id: int
    remote_start: datetime | None
    remote_end: datetime | None
    on_site_minutes: int
    trips: int


def percent(basis_points: int) -> str:
    """Basis points as a percentage without trailing zeros (1 050 -> 10.5)."""
    whole, part = divmod(basis_points, 100)
    return f"{whole}" if not part else f"{whole}.{part:02d}".rstrip("0")


def intervention_lines(
    work: Work, *, discount_basis_points: int, vat_rate_basis_points: int
) -> list[ChargeLine]:
    """One line per started hour (remote, then on site) and per trip."""
    lines: list[ChargeLine] = []
    discounted = 1 if discount_basis_points else 0

    def add(kind: str, keys: tuple[str, str], index: int, list_cents: int, **params: str) -> None:
        if discounted:
            params["percent"] = percent(discount_basis_points)
        lines.append(
            ChargeLine(
                source=f"intervention:{work.intervention_id}:{kind}:{index}",
                description_key=keys[discounted],
                description_params=tuple(sorted(params.items())),
                quantity_milli=1000,
                unit_price_cents=unit_price(list_cents, discount_basis_points),
                vat_rate_basis_points=vat_rate_basis_points,
            )
        )

    if work.remote_start is not None and work.remote_end is not None:
        seconds = int((work.remote_end - work.remote_start).total_seconds())
        count = started_hours(seconds)
        for number in range(1, count + 1):
            add(
                "remote",
                REMOTE_HOUR,
                number,
                HOUR_CENTS,
                number=str(number),
                count=str(count),
                start=work.remote_start.strftime("%Y-%m-%d %H:%M:%S"),
                end=work.remote_end.strftime("%Y-%m-%d %H:%M:%S"),
            )
    count = started_hours(work.on_site_minutes * 60)
    for number in range(1, count + 1):
        add(
            "onsite",
            ON_SITE_HOUR,
            number,
            HOUR_CENTS,
            number=str(number),
            count=str(count),
            minutes=str(work.on_site_minutes),
        )
    for number in range(1, work.trips + 1):
        add("trip", TRIP, number, TRIP_CENTS, number=str(number), count=str(work.trips))
    return lines
