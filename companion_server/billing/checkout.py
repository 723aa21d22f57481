"""The "Pay X € and subscribe" step (S4): the one place where a cart becomes subscriptions.

It checks the cart again, records the billing address, the subscriptions and their first
period's charges, and issues the invoice of every charge due (credits of cancelled services
included), payable by bank transfer or card from the customer's invoices. A company that has
not entered its seller details yet cannot invoice: the charges wait for its next invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from companion_server.billing import catalogue, charges, periods, plans, subscriptions
from companion_server.errors import ValidationFailed
from companion_server.i18n import N_
from companion_server.invoicing.amounts import totals
from companion_server.models import BillingAddress, InstallationHandover
from companion_server.parsing import has_control_characters

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.billing.cart import CartItem
    from companion_server.invoicing.store import InvoiceStore
    from companion_server.models import (
        Installation,
        Invoice,
        ServiceCharge,
        ServiceSubscription,
        User,
    )

ADDRESS_LIMITS: Final = {"name": 200, "street": 200, "postcode": 20, "city": 100}


@dataclass(frozen=True, slots=True)
class Address:
    """The billing address form."""

    name: str
    street: str
    postcode: str
    city: str
    country: str

    def errors(self) -> dict[str, str]:
        """Field errors: every line filled, short enough, printable; a two-letter country."""
        found: dict[str, str] = {}
        for field, limit in ADDRESS_LIMITS.items():
            value = getattr(self, field).strip()
            if not value:
                found[field] = N_("This field is required.")
            elif len(value) > limit or has_control_characters(value):
                found[field] = N_(
                    "This value is too long or holds characters that cannot be shown."
                )
        country = self.country.strip()
        if not (len(country) == 2 and country.isascii() and country.isalpha()):
            found["country"] = N_("Give the country as two letters, such as FR.")
        return found


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One item of the summary: its monthly price for the chosen cameras."""

    entry: catalogue.Entry
    quantity: int

    @property
    def net_cents(self) -> int:
        """The first month, excluding VAT."""
        return self.entry.item.monthly_price_cents * self.quantity


@dataclass(frozen=True, slots=True)
class Quote:
    """The summary before paying: lines, VAT rate and totals in cents."""

    lines: tuple[QuoteLine, ...]
    vat_rate_basis_points: int

    @property
    def net_cents(self) -> int:
        """The total excluding VAT."""
        return sum(line.net_cents for line in self.lines)

    @property
    def vat_cents(self) -> int:
        """The VAT as the invoice computes it: per line, each rounded half up to the cent.

        Rounded once on the total it could be a cent below the invoice of the same cart
        (lines of 0.8 and 0.6 cent): the button would not show what the invoice asks.
        """
        return totals((line.net_cents, self.vat_rate_basis_points) for line in self.lines).vat_cents

    @property
    def gross_cents(self) -> int:
        """What is paid today."""
        return self.net_cents + self.vat_cents


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a checkout started."""

    subscriptions: tuple[ServiceSubscription, ...]
    charges: tuple[ServiceCharge, ...]
    quote: Quote
    invoice: Invoice | None


def _group_key(code: str) -> str:
    # The two recording durations, and the support plans, exclude each other.
    if code.startswith("recording_"):
        return "recording"
    return "plan" if plans.is_plan(code) else code


async def quote(
    db: AsyncSession, installation: Installation, cart: Sequence[CartItem], now: datetime
) -> Quote:
    """Check the cart for the installation and price it (the summary's numbers)."""
    if not cart:
        raise ValidationFailed({"cart": N_("Choose at least one service.")})
    running = await subscriptions.running(db, installation.id, now)
    taken = {_group_key(sub.code) for sub in running if subscriptions.is_paid(sub)}
    profile = await catalogue.profile(db, installation.company_id)
    seen: set[str] = set()
    lines = []
    for item in cart:
        entry = await catalogue.entry(db, installation.company_id, item.code)
        key = _group_key(item.code)
        if not entry.item.active or not entry.offer.subscribable:
            raise ValidationFailed({"cart": N_("This service is not offered any more.")})
        if key in taken or key in seen:
            raise ValidationFailed({"cart": N_("You already have this service.")})
        if key == "plan":
            handover = await db.get(InstallationHandover, installation.id)
            if not plans.may_start_plan(handover, periods.local_date(now, profile.time_zone)):
                raise ValidationFailed(
                    {
                        "cart": N_(
                            "A support plan can start only within 3 months of the signed"
                            " handover protocol."
                        )
                    }
                )
        seen.add(key)
        lines.append(QuoteLine(entry, item.quantity))
    return Quote(tuple(lines), profile.vat_rate_basis_points)


@dataclass(frozen=True, slots=True)
class Invoicing:
    """Who the invoice goes to and where its file is kept."""

    customer: User
    store: InvoiceStore


async def checkout(
    db: AsyncSession,
    *,
    customer_id: int,
    installation: Installation,
    cart: Sequence[CartItem],
    address: Address,
    terms_accepted: bool,
    expected_gross_cents: int,
    now: datetime,
    invoicing: Invoicing | None = None,
) -> Receipt:
    """Subscribe to the cart: everything is checked first, then recorded in one go.

    ``expected_gross_cents`` is the amount the button showed: a price changed meanwhile
    stops the checkout rather than charging something else. With ``invoicing``, the charges
    due are invoiced in the same transaction.
    """
    errors = address.errors()
    if not terms_accepted:
        errors["terms"] = N_("Accept the terms of sale to subscribe.")
    if errors:
        raise ValidationFailed(errors)
    await catalogue.entries(db, installation.company_id, create=True)
    priced = await quote(db, installation, cart, now)
    if priced.gross_cents != expected_gross_cents:
        raise ValidationFailed({"cart": N_("The prices changed: check the summary again.")})
    stored = await db.get(BillingAddress, customer_id)
    values = {
        "name": address.name.strip(),
        "street": address.street.strip(),
        "postcode": address.postcode.strip(),
        "city": address.city.strip(),
        "country": address.country.strip().upper(),
        "updated_at": now,
    }
    if stored is None:
        db.add(BillingAddress(customer_id=customer_id, **values))
    else:
        for key, value in values.items():
            setattr(stored, key, value)
    started = []
    charges_made = []
    for line in priced.lines:
        sub, charge = await subscriptions.start(
            db,
            customer_id=customer_id,
            installation_id=installation.id,
            entry=line.entry,
            quantity=line.quantity,
            now=now,
        )
        started.append(sub)
        charges_made.append(charge)
    await db.flush()
    invoice = None
    if invoicing is not None:
        invoice = await charges.invoice_due(
            db,
            company_id=installation.company_id,
            customer=invoicing.customer,
            store=invoicing.store,
            now=now,
        )
    return Receipt(tuple(started), tuple(charges_made), priced, invoice)
