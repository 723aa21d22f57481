"""What is owed, before it is invoiced: the hand-over between what is sold and the invoice.

Services, support plans and interventions each produce charge lines; the invoice is issued
from them. Amounts are integer euro cents excluding VAT, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date  # noqa: TC003 (a dataclass field type, resolved at runtime)


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One line of an invoice to be: ``quantity`` units at ``unit_price_cents`` each.

    ``quantity_milli`` is in thousandths of a unit (1 000 = one month, one started hour,
    one trip), so that a prorated month stays an integer. A credit (unused time of a cancelled
    service) is a line with a negative ``unit_price_cents``. ``source`` names what the line
    comes from (``subscription:12``, ``intervention:7``, ``credit:subscription:12``), so that
    the same thing is never billed twice.
    """

    source: str
    description_key: str
    description_params: tuple[tuple[str, str], ...]
    quantity_milli: int
    unit_price_cents: int
    vat_rate_basis_points: int
    period_start: date | None = None
    period_end: date | None = None

    @property
    def net_cents(self) -> int:
        """The line's amount excluding VAT, rounded half away from zero to the cent."""
        product = self.quantity_milli * self.unit_price_cents
        magnitude = (abs(product) + 500) // 1000
        return magnitude if product >= 0 else -magnitude
