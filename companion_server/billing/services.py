"""The customer's "My services" (S1-S9) and its steps, each in one transaction.

Every function checks that the customer owns the installation or the subscription: anybody
else's answers NotFound, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion_server.billing import catalogue, home_assistant, periods, plans, subscriptions
from companion_server.billing.checkout import (
    Address,
    Invoicing,
    Quote,
    Receipt,
    checkout,
    quote,
)
from companion_server.customers.accounts import owns
from companion_server.errors import NotFound
from companion_server.invoicing.payments import methods
from companion_server.invoicing.store import store_of
from companion_server.models import (
    BillingAddress,
    Company,
    Installation,
    InstallationHandover,
    ServiceSubscription,
    User,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.billing.cart import CartItem
    from companion_server.core import Core


@dataclass(frozen=True, slots=True)
class Cell:
    """One service of the page: the company's offer and the customer's subscription to it."""

    entry: catalogue.Entry
    subscription: ServiceSubscription | None
    status: subscriptions.Status | None


@dataclass(frozen=True, slots=True)
class ServicesPage:
    """Everything "My services" shows for one installation."""

    installation: Installation
    company_name: str
    profile_vat: int
    cells: tuple[Cell, ...]
    plan_allowed: bool
    plan_deadline: date | None

    def group(self, name: str) -> list[Cell]:
        """The cells of one part of the page, offered or taken."""
        return [
            c
            for c in self.cells
            if c.entry.offer.group == name and (c.entry.item.active or c.subscription is not None)
        ]

    @property
    def paid_running(self) -> bool:
        """Whether a paid service runs: "Change payment method" shows only then (S9)."""
        return any(
            c.subscription is not None and subscriptions.is_paid(c.subscription) for c in self.cells
        )

    def taken(self, code: str) -> bool:
        """Whether the customer already has this item, or one that excludes it."""
        return any(
            c.subscription is not None and same_kind(c.entry.offer.code, code) for c in self.cells
        )


def same_kind(first: str, second: str) -> bool:
    if first.startswith("recording_") and second.startswith("recording_"):
        return True
    if plans.is_plan(first) and plans.is_plan(second):
        return first != catalogue.BASIC and second != catalogue.BASIC
    return first == second


async def owned_installation(
    db: AsyncSession, customer_id: int, installation_id: int
) -> Installation:
    """The customer's installation; NotFound for anybody else's."""
    installation = await db.get(Installation, installation_id)
    if installation is None or not await owns(db, customer_id, installation_id):
        raise NotFound()
    return installation


async def services_page(core: Core, customer_id: int, installation_id: int) -> ServicesPage:
    """The installation's services: every offer, with the customer's running subscription."""
    now = core.now()
    async with core.tx() as db:
        installation = await owned_installation(db, customer_id, installation_id)
        company = await db.get(Company, installation.company_id)
        profile = await catalogue.profile(db, installation.company_id)
        running = {
            sub.code: sub
            for sub in await subscriptions.running(db, installation.id, now)
            if sub.customer_id == customer_id
        }
        cells = []
        for entry in await catalogue.entries(db, installation.company_id):
            sub = running.get(entry.offer.code)
            status = (
                None
                if sub is None
                else subscriptions.status_on(sub, subscriptions.today_of(sub, now))
            )
            cells.append(Cell(entry, sub, status))
        handover = await db.get(InstallationHandover, installation.id)
        today = periods.local_date(now, profile.time_zone)
        return ServicesPage(
            installation=installation,
            company_name=company.name if company else "",
            profile_vat=profile.vat_rate_basis_points,
            cells=tuple(cells),
            plan_allowed=plans.may_start_plan(handover, today),
            plan_deadline=None if handover is None else plans.last_plan_start(handover.signed_on),
        )


async def summary(
    core: Core, customer_id: int, installation_id: int, cart: Sequence[CartItem]
) -> Quote:
    """The priced cart (checked again)."""
    async with core.tx() as db:
        installation = await owned_installation(db, customer_id, installation_id)
        return await quote(db, installation, cart, core.now())


async def billing_address(core: Core, customer_id: int) -> BillingAddress | None:
    """The address the customer's last checkout used."""
    async with core.tx() as db:
        return await db.get(BillingAddress, customer_id)


async def pay(
    core: Core,
    customer_id: int,
    installation_id: int,
    cart: Sequence[CartItem],
    address: Address,
    *,
    terms_accepted: bool,
    expected_gross_cents: int,
) -> Receipt:
    """The checkout ("Pay X € and subscribe"), for the customer's own installation."""
    async with core.tx() as db:
        installation = await owned_installation(db, customer_id, installation_id)
        customer = await db.get(User, customer_id)
        receipt = await checkout(
            db,
            customer_id=customer_id,
            installation=installation,
            cart=cart,
            address=address,
            terms_accepted=terms_accepted,
            expected_gross_cents=expected_gross_cents,
            now=core.now(),
            invoicing=None if customer is None else Invoicing(customer, store_of(core)),
        )
        queued = await home_assistant.queue_services(db, installation.id, core.now())
    if queued:
        await home_assistant.frames_pending(core, [installation.id])
    if receipt.invoice is not None:  # a card saved for the company's invoices pays it now
        await methods.charge_saved_card(core, receipt.invoice)
    return receipt


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription with its offer, for the cancel and confirmation pages."""

    subscription: ServiceSubscription
    entry: catalogue.Entry
    status: subscriptions.Status
    last_paid: bool


async def subscription_view(core: Core, customer_id: int, subscription_id: int) -> SubscriptionView:
    """One of the customer's subscriptions, and whether it is their last paid service."""
    now = core.now()
    async with core.tx() as db:
        sub = await db.get(ServiceSubscription, subscription_id)
        if sub is None or sub.customer_id != customer_id:
            raise NotFound()
        entry = await catalogue.entry(db, sub.company_id, sub.code)
        return SubscriptionView(
            sub,
            entry,
            subscriptions.status_on(sub, subscriptions.today_of(sub, now)),
            not await subscriptions.other_paid_running(db, sub, now),
        )


async def cancel(
    core: Core, customer_id: int, subscription_id: int, mode: subscriptions.CancelMode
) -> subscriptions.Cancelled:
    """Cancel one of the customer's services (S5-S6)."""
    async with core.tx() as db:
        sub = await subscriptions.owned(db, customer_id, subscription_id)
        cancelled = await subscriptions.cancel(db, sub, mode, core.now())
        queued = await home_assistant.queue_services(db, sub.installation_id, core.now())
    if queued:
        await home_assistant.frames_pending(core, [sub.installation_id])
    return cancelled


async def reactivate(core: Core, customer_id: int, subscription_id: int) -> None:
    """Cancel the termination of one of the customer's services (S7)."""
    async with core.tx() as db:
        sub = await subscriptions.owned(db, customer_id, subscription_id)
        await subscriptions.reactivate(sub, core.now())
        queued = await home_assistant.queue_services(db, sub.installation_id, core.now())
    if queued:
        await home_assistant.frames_pending(core, [sub.installation_id])


async def started(
    core: Core, customer_id: int, installation_id: int, ids: Sequence[int]
) -> list[SubscriptionView]:
    """The customer's subscriptions among ``ids`` on the installation (the confirmation)."""
    async with core.tx() as db:
        await owned_installation(db, customer_id, installation_id)
    found = []
    for subscription_id in ids[:20]:
        try:
            view = await subscription_view(core, customer_id, subscription_id)
        except NotFound:
            continue
        if view.subscription.installation_id == installation_id:
            found.append(view)
    return found
