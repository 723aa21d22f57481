"""A company's catalogue: what the seeds sell, at the company's prices, and its VAT rate.

Each company gets the same starting catalogue the first time it is read (S1: included
services; video; security; and the support plans of D4); its administrator then sets the
prices and which items are offered. Prices are integer euro cents excluding VAT.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from companion_server.errors import NotFound, ValidationFailed
from companion_server.i18n import N_
from companion_server.i18n.dates import valid_time_zone
from companion_server.models import BillingProfile, CatalogueItem

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class Group(StrEnum):
    """The parts of "My services" (S1), plus the support plans (D4)."""

    INCLUDED = "included"
    VIDEO = "video"
    SECURITY = "security"
    PLANS = "plans"


@dataclass(frozen=True, slots=True)
class Offer:
    """What an item is, whatever its price: name, explanation, group, defaults."""

    code: str
    group: Group
    name: str
    explanation: str
    price_cents: int
    discount_basis_points: int = 0
    priority: int = 0
    per_camera: bool = False

    @property
    def subscribable(self) -> bool:
        """Included services and the free Basic plan come with every installation."""
        return self.group is not Group.INCLUDED and self.code != BASIC


BASIC: Final = "plan_basic"
MONITORING: Final = "monitoring"
DEFAULT_VAT_BASIS_POINTS: Final = 2000
DEFAULT_TIME_ZONE: Final = "Europe/Paris"
MAX_PRICE_CENTS: Final = 1_000_000
MAX_CAMERAS: Final = 8

OFFERS: Final = (
    Offer("sms", Group.INCLUDED, N_("SMS alerts"), N_("Alerts by SMS when the alarm goes off."), 0),
    Offer(
        "neighbours",
        Group.INCLUDED,
        N_("Neighbour help"),
        N_("Neighbours you chose are told when the alarm goes off."),
        0,
    ),
    Offer(
        "clips",
        Group.INCLUDED,
        N_("Video clips on detection"),
        N_("A short clip is kept whenever a camera detects movement."),
        0,
    ),
    Offer(
        "recording_7d",
        Group.VIDEO,
        N_("Continuous recording, 7 days"),
        N_("Chosen cameras record all the time; the last 7 days stay available."),
        499,
        per_camera=True,
    ),
    Offer(
        "recording_30d",
        Group.VIDEO,
        N_("Continuous recording, 30 days"),
        N_("Chosen cameras record all the time; the last 30 days stay available."),
        999,
        per_camera=True,
    ),
    Offer(
        "backup",
        Group.SECURITY,
        N_("Backup connection"),
        N_("A mobile connection takes over when the home's internet fails."),
        299,
    ),
    Offer(
        MONITORING,
        Group.SECURITY,
        N_("Professional monitoring"),
        N_("The monitoring centre handles your alarms day and night and calls your contacts."),
        2499,
    ),
    Offer(
        BASIC,
        Group.PLANS,
        N_("Basic support"),
        N_("Free for every customer: the self-service portal and e-mail support."),
        0,
    ),
    Offer(
        "plan_smart",
        Group.PLANS,
        N_("Smart support"),
        N_("Instant messaging with the help desk, served first, free remote diagnostics."),
        1900,
        discount_basis_points=1000,
        priority=1,
    ),
    Offer(
        "plan_premium",
        Group.PLANS,
        N_("Premium support"),
        N_(
            "Instant messaging and a phone line 7 days a week, served first, free remote"
            " diagnostics."
        ),
        3900,
        discount_basis_points=2000,
        priority=2,
    ),
)
OFFER_BY_CODE: Final = {offer.code: offer for offer in OFFERS}


@dataclass(frozen=True, slots=True)
class Entry:
    """A catalogue line as the company set it."""

    item: CatalogueItem
    offer: Offer


async def profile(db: AsyncSession, company_id: int, *, create: bool = False) -> BillingProfile:
    """The company's VAT rate and time zone; the defaults until it sets them.

    Reading stores nothing (a page view changes no table); ``create`` keeps the row.
    """
    found = await db.get(BillingProfile, company_id)
    if found is None:
        found = BillingProfile(
            company_id=company_id,
            vat_rate_basis_points=DEFAULT_VAT_BASIS_POINTS,
            time_zone=DEFAULT_TIME_ZONE,
        )
        if create:
            db.add(found)
            await db.flush()
    return found


async def entries(db: AsyncSession, company_id: int, *, create: bool = False) -> list[Entry]:
    """The company's catalogue in the seeds' order, the seeds' prices where it set none.

    Items the company never stored are shown at the seeds' prices; ``create`` stores them
    (a subscription needs its item's row, and a company that sells through the catalogue
    has its rows).
    """
    rows = {
        item.code: item
        for item in await db.scalars(
            select(CatalogueItem).where(CatalogueItem.company_id == company_id)
        )
    }
    for offer in OFFERS:
        if offer.code not in rows:
            item = CatalogueItem(
                company_id=company_id,
                code=offer.code,
                monthly_price_cents=offer.price_cents,
                active=True,
                discount_basis_points=offer.discount_basis_points,
                priority=offer.priority,
            )
            if create:
                db.add(item)
            rows[offer.code] = item
    if create:
        await db.flush()
    return [Entry(rows[offer.code], offer) for offer in OFFERS]


async def entry(db: AsyncSession, company_id: int, code: str, *, create: bool = False) -> Entry:
    """One line of the company's catalogue; NotFound for a code it does not have."""
    for found in await entries(db, company_id, create=create):
        if found.offer.code == code:
            return found
    raise NotFound()


def parse_euros(raw: str) -> int | None:
    """Cents from "12", "12.5", "12,50" (at most two decimals), or None."""
    text = raw.strip().replace(",", ".")
    if not text.isascii():  # "²" and other Unicode digits are not numbers int() reads
        return None
    whole, dot, fraction = text.partition(".")
    if (
        not whole.isdigit()
        or len(whole) > 7
        or (dot and not (fraction.isdigit() and len(fraction) <= 2))
    ):
        return None
    return int(whole) * 100 + int(fraction.ljust(2, "0") or "0")


def parse_percent(raw: str) -> int | None:
    """Basis points from a percentage with at most two decimals ("20", "5.5"), or None."""
    cents = parse_euros(raw)
    return cents if cents is not None and cents <= 10000 else None


@dataclass(frozen=True, slots=True)
class ItemChange:
    """The administrator's form for one item."""

    price: str
    active: bool
    discount: str
    priority: str


async def update_item(db: AsyncSession, company_id: int, code: str, change: ItemChange) -> None:
    """Set an item's price, whether it is offered, and a plan's discount and priority."""
    if code not in OFFER_BY_CODE:
        raise NotFound()
    item = (await entry(db, company_id, code, create=True)).item
    errors: dict[str, str] = {}
    price = parse_euros(change.price)
    if price is None or price > MAX_PRICE_CENTS:
        errors["price"] = N_("Give a price in euros, such as 19.90.")
    discount = parse_percent(change.discount)
    if discount is None:
        errors["discount"] = N_("Give a percentage between 0 and 100.")
    priority = change.priority.strip()
    if not (priority.isascii() and priority.isdigit() and int(priority) <= 9):
        errors["priority"] = N_("Give a priority from 0 to 9.")
    offer = OFFER_BY_CODE[item.code]
    if offer.group is Group.INCLUDED and price:
        errors["price"] = N_("Included services are free.")
    if errors:
        raise ValidationFailed(errors)
    assert price is not None and discount is not None
    item.monthly_price_cents = price
    item.active = change.active
    item.discount_basis_points = discount if offer.group is Group.PLANS else 0
    item.priority = int(priority) if offer.group is Group.PLANS else 0


async def update_profile(db: AsyncSession, company_id: int, vat: str, time_zone: str) -> None:
    """Set the company's VAT rate (shown on every price) and its billing time zone."""
    errors: dict[str, str] = {}
    rate = parse_percent(vat)
    if rate is None:
        errors["vat"] = N_("Give a percentage between 0 and 100.")
    zone = time_zone.strip()
    if not valid_time_zone(zone):
        errors["time_zone"] = N_("Choose a time zone such as Europe/Paris.")
    if errors:
        raise ValidationFailed(errors)
    assert rate is not None
    found = await profile(db, company_id, create=True)
    found.vat_rate_basis_points = rate
    found.time_zone = zone
