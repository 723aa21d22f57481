"""Pay in advance (D6): customers without a paid support plan pay before the work.

Plan holders pay after the intervention. For everybody else, an administrator of the
company issues an advance invoice for the estimated hours and trips; the customer is
e-mailed a link to it in their customer area (card or bank transfer). Remote service can
be requested only once it is paid, or when the administrator overrides the rule, saying
why (kept with who and when). The intervention's final invoice lists the work as the
journal recorded it and deducts the advance, once.

The rule applies where the portal can issue the advance: the company invoices through the
portal (its seller details are entered) and the homeowner has a customer account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.billing.money import euros
from companion_server.billing.plans import plan_terms
from companion_server.errors import RuleViolation, ValidationFailed
from companion_server.i18n import N_
from companion_server.installations.services import visible_installation
from companion_server.invoicing.amounts import totals
from companion_server.invoicing.credit_notes import credited_positions
from companion_server.invoicing.issue import Buyer, issue_invoice, lines_of, seller_of
from companion_server.invoicing.labels import customer_url, display_number
from companion_server.invoicing.lines import ChargeLine
from companion_server.invoicing.payments.base import Balance, balance
from companion_server.invoicing.pricing import HOUR_CENTS, TRIP_CENTS, unit_price
from companion_server.journal import log
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    BillingAddress,
    Company,
    CustomerInstallation,
    Installation,
    InterventionAdvance,
    Invoice,
    SellerProfile,
    User,
)
from companion_server.parsing import parse_int
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.invoicing.store import InvoiceStore

REMOTE = N_("Advance: service hour {number} of {count}, remote (estimated)")
ON_SITE = N_("Advance: service hour {number} of {count}, on site (estimated)")
TRIP = N_("Advance: service trip {number} of {count} (estimated)")
DEDUCTION = N_("Less the advance invoice {number}")
# Refuses both a request and the actions in a window Home Assistant opened unasked.
PAY_FIRST = N_(
    "This customer has no paid support plan: they pay in advance. Remote service can start"
    " once the advance invoice is paid."
)
MAX_REMOTE_HOURS = 8
MAX_ON_SITE_HOURS = 24
MAX_TRIPS = 20


@dataclass(frozen=True, slots=True)
class Gate:
    """Whether the installation's customer pays in advance, and where their advance stands."""

    required: bool
    advance: InterventionAdvance | None
    invoice: Invoice | None
    balance: Balance | None

    @property
    def status(self) -> str:
        """``none`` (no advance yet), ``open``, ``paid`` or ``overridden``."""
        if self.advance is None or self.balance is None:
            return "none"
        if self.balance.outstanding_cents == 0:
            return "paid"
        return "overridden" if self.advance.override_at is not None else "open"

    @property
    def number(self) -> str:
        """The advance invoice's number as printed ("" without one)."""
        return display_number(self.invoice.number) if self.invoice else ""

    @property
    def allowed(self) -> bool:
        """Whether remote service may be requested now."""
        return not self.required or self.status in ("paid", "overridden")


async def _pending(
    db: AsyncSession, installation: Installation
) -> list[tuple[InterventionAdvance, Invoice]]:
    """The company's advances for the installation not deducted yet, oldest first."""
    rows = await db.execute(
        select(InterventionAdvance, Invoice)
        .join(Invoice, Invoice.id == InterventionAdvance.invoice_id)
        .where(
            InterventionAdvance.installation_id == installation.id,
            InterventionAdvance.company_id == installation.company_id,
            InterventionAdvance.settled_by_invoice_id.is_(None),
        )
        .order_by(InterventionAdvance.id)
    )
    return list(rows.tuples())


async def gate(db: AsyncSession, installation: Installation, now: datetime) -> Gate:
    """The pay-in-advance rule for the installation at ``now`` (read only)."""
    seller = await db.get(SellerProfile, installation.company_id)
    customer = await customer_of(db, installation.id)
    plan = await plan_terms(db, installation.id, now)
    required = seller is not None and customer is not None and not plan.free_remote_diagnostics
    pending = await _pending(db, installation)
    if not pending:
        return Gate(required, None, None, None)
    advance, invoice = pending[-1]
    return Gate(required, advance, invoice, await balance(db, invoice))


async def check(db: AsyncSession, installation: Installation, now: datetime) -> None:
    """Refuse remote service while the customer's advance is due (:class:`RuleViolation`)."""
    if not (await gate(db, installation, now)).allowed:
        raise RuleViolation(PAY_FIRST)


def _estimate(values: dict[str, str]) -> tuple[int, int, int]:
    errors: dict[str, str] = {}
    remote = parse_int(values.get("remote_hours", "0") or "0", 0, MAX_REMOTE_HOURS)
    on_site = parse_int(values.get("on_site_hours", "0") or "0", 0, MAX_ON_SITE_HOURS)
    trips = parse_int(values.get("trips", "0") or "0", 0, MAX_TRIPS)
    if remote is None:
        errors["remote_hours"] = "Enter the remote hours (0 to 8)."
    if on_site is None:
        errors["on_site_hours"] = "Enter the hours on site (0 to 24)."
    if trips is None:
        errors["trips"] = "Enter the number of trips (0 to 20)."
    if not errors and not (remote or on_site or trips):
        errors["remote_hours"] = "Estimate at least one hour or one trip."
    if errors:
        raise ValidationFailed(errors)
    assert remote is not None and on_site is not None and trips is not None
    return remote, on_site, trips


def advance_lines(
    installation_id: int, estimate: tuple[int, int, int], *, discount: int, vat: int
) -> list[ChargeLine]:
    """One line per estimated hour (remote, then on site) and per trip, as priced after."""
    lines: list[ChargeLine] = []
    for kind, key, count, list_cents in (
        ("remote", REMOTE, estimate[0], HOUR_CENTS),
        ("onsite", ON_SITE, estimate[1], HOUR_CENTS),
        ("trip", TRIP, estimate[2], TRIP_CENTS),
    ):
        lines.extend(
            ChargeLine(
                source=f"advance:{installation_id}:{kind}:{number}",
                description_key=key,
                description_params=(("count", str(count)), ("number", str(number))),
                quantity_milli=1000,
                unit_price_cents=unit_price(list_cents, discount),
                vat_rate_basis_points=vat,
            )
            for number in range(1, count + 1)
        )
    return lines


async def is_advance(core: Core, invoice_id: int) -> bool:
    """Whether the invoice is an intervention's advance."""
    async with core.tx() as db:
        found = await db.scalar(
            select(InterventionAdvance.id).where(InterventionAdvance.invoice_id == invoice_id)
        )
    return found is not None


async def customer_of(db: AsyncSession, installation_id: int) -> User | None:
    """The homeowner's account of an installation, if any."""
    customer: User | None = await db.scalar(
        select(User)
        .join(CustomerInstallation, CustomerInstallation.customer_id == User.id)
        .where(CustomerInstallation.installation_id == installation_id)
        .order_by(CustomerInstallation.created_at)
        .limit(1)
    )
    return customer


async def address_of(db: AsyncSession, customer_id: int) -> dict[str, str]:
    """The customer's billing address as the form prefills it (empty when unknown)."""
    known = await db.get(BillingAddress, customer_id)
    if known is None:
        return {}
    return {
        "street": known.street,
        "postcode": known.postcode,
        "city": known.city,
        "country": known.country,
    }


async def issue_advance(
    core: Core, actor_id: int, installation_id: int, values: dict[str, str], store: InvoiceStore
) -> Invoice:
    """Issue the advance invoice of the installation's next intervention and e-mail the link."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=True)
        installation = await visible_installation(db, actor, installation_id)
        estimate = _estimate(values)
        now = core.now()
        state = await gate(db, installation, now)
        if not state.required:
            raise RuleViolation("This customer does not pay in advance: they have a support plan.")
        if state.advance is not None:
            raise RuleViolation("An advance for the next intervention is issued already.")
        customer = await customer_of(db, installation.id)
        if customer is None:
            raise ValidationFailed({"customer": "The installation has no customer account."})
        seller = await seller_of(db, installation.company_id)
        plan = await plan_terms(db, installation.id, now)
        invoice = await issue_invoice(
            db,
            company_id=installation.company_id,
            customer_id=customer.id,
            buyer=Buyer(
                customer.name,
                customer.email,
                values.get("street", ""),
                values.get("postcode", ""),
                values.get("city", ""),
                values.get("country", "").strip().upper(),
            ),
            lines=advance_lines(
                installation.id,
                estimate,
                discount=plan.discount_basis_points,
                vat=seller.vat_rate_basis_points,
            ),
            language=customer.language,
            now=now,
            store=store,
        )
        db.add(
            InterventionAdvance(
                company_id=installation.company_id,
                installation_id=installation.id,
                invoice_id=invoice.id,
                requested_by_id=actor.id,
                created_at=now,
            )
        )
        log(
            db,
            installation,
            now,
            "advance_invoiced",
            actor=actor,
            detail=display_number(invoice.number),
        )
        company = await db.get(Company, installation.company_id)
        assert company is not None
        enqueue(
            db,
            now,
            MailKind.ADVANCE_PAYMENT,
            customer.email,
            customer.language,
            company=company.name,
            installation=installation.name,
            number=display_number(invoice.number),
            amount=euros(invoice.gross_cents, customer.language),
            link=customer_url(core.settings.public_url, invoice.id),
        )
    return invoice


async def override(core: Core, actor_id: int, installation_id: int, reason: str) -> None:
    """Let the work start before the advance is paid; who, when and why are kept."""
    reason = " ".join(reason.split())
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=True)
        installation = await visible_installation(db, actor, installation_id)
        if not 3 <= len(reason) <= 300:
            raise ValidationFailed(
                {"reason": "Say why the work starts before payment (3 to 300 characters)."}
            )
        now = core.now()
        state = await gate(db, installation, now)
        if state.advance is None or state.status != "open":
            raise RuleViolation("There is no unpaid advance invoice to override.")
        state.advance.override_by_id = actor.id
        state.advance.override_at = now
        state.advance.override_reason = reason
        log(db, installation, now, "advance_override", actor=actor, detail=reason, private=True)


async def deductions(
    db: AsyncSession, installation: Installation, until: datetime
) -> tuple[list[ChargeLine], list[InterventionAdvance]]:
    """The advances issued before ``until`` and not deducted yet: one line per VAT rate.

    Each advance line counts at its net amount unless a credit note took it back.
    """
    lines: list[ChargeLine] = []
    used: list[InterventionAdvance] = []
    for advance, invoice in await _pending(db, installation):
        if advance.created_at > until:
            continue
        credited = await credited_positions(db, invoice.id)
        by_rate: dict[int, int] = {}
        for line in await lines_of(db, invoice.id):
            if line.position not in credited:
                by_rate[line.vat_rate_basis_points] = (
                    by_rate.get(line.vat_rate_basis_points, 0) + line.net_cents
                )
        used.append(advance)
        lines.extend(
            ChargeLine(
                source=f"advance-deduction:{invoice.id}:{rate}",
                description_key=DEDUCTION,
                description_params=(("number", display_number(invoice.number)),),
                quantity_milli=1000,
                unit_price_cents=-net,
                vat_rate_basis_points=rate,
            )
            for rate, net in sorted(by_rate.items())
            if net
        )
    return lines, used


def gross_of(lines: Sequence[ChargeLine]) -> int:
    """What the lines total, VAT included."""
    return totals((line.net_cents, line.vat_rate_basis_points) for line in lines).gross_cents
