"""Totals of an invoice, reproducible from its lines: integer cents, one rounding rule.

Rounding: every division rounds half away from zero to the cent (``ChargeLine.net_cents``
for a line's quantity times its unit price; :func:`percent_of` for VAT and discounts).
VAT is computed per line, on the line's net amount at the line's rate; a rate's VAT is the
sum of its lines' VAT and the invoice's VAT the sum over the rates. Every amount is so a
sum of amounts printed on the lines, and crediting lines one by one adds up to exactly the
invoice. EN 16931 rule BR-CO-17 rounds a rate's VAT once, on its net sum: the two differ
when several lines' half cents add up, which the XSD check does not cover and a strict
schematron check would report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


def percent_of(amount_cents: int, basis_points: int) -> int:
    """``amount * basis_points / 10 000``, rounded half away from zero to the cent."""
    product = amount_cents * basis_points
    magnitude = (abs(product) + 5000) // 10000
    return magnitude if product >= 0 else -magnitude


@dataclass(frozen=True, slots=True)
class VatGroup:
    """The lines taxed at one rate: their net sum and its VAT."""

    rate_basis_points: int
    net_cents: int
    vat_cents: int


@dataclass(frozen=True, slots=True)
class Totals:
    """An invoice's net, VAT and gross amounts and its VAT breakdown."""

    net_cents: int
    vat_cents: int
    gross_cents: int
    groups: tuple[VatGroup, ...]


def totals(lines: Iterable[tuple[int, int]]) -> Totals:
    """The totals of ``(net_cents, vat_rate_basis_points)`` lines."""
    net_by_rate: dict[int, int] = defaultdict(int)
    vat_by_rate: dict[int, int] = defaultdict(int)
    for net, rate in lines:
        net_by_rate[rate] += net
        vat_by_rate[rate] += percent_of(net, rate)
    groups = tuple(
        VatGroup(rate, net, vat_by_rate[rate]) for rate, net in sorted(net_by_rate.items())
    )
    net = sum(g.net_cents for g in groups)
    vat = sum(g.vat_cents for g in groups)
    return Totals(net, vat, net + vat, groups)


def euros(cents: int) -> str:
    """``1234`` -> ``"12.34"``: the decimal notation of the XML and the CSV export."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
