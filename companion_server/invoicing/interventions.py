"""Invoicing a finished remote intervention from what the journal recorded.

The billable remote time is the window as Home Assistant reported it, mirrored in the
installation's interventions journal (``window_granted`` when the homeowner opened it, then
its end: ended by the installer, expired or revoked), never a time someone types in. The
homeowner's own audit log holds the same two moments, so they can check every hour line.

The customer's support plan running when the window opened sets the discount (D5), and
holders of a paid plan get remote diagnostics free (D6): a window in which the installer
only looked (no action's result journalled) bills no remote hour. Everybody else paid in
advance (:mod:`companion_server.invoicing.advances`): the invoice deducts that advance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (a dataclass field type, resolved at runtime)
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.billing.catalogue import OFFER_BY_CODE
from companion_server.billing.plans import PlanTerms, plan_terms
from companion_server.errors import NotFound, ValidationFailed
from companion_server.invoicing.advances import customer_of, deductions, gross_of
from companion_server.invoicing.issue import Buyer, issue_invoice, seller_of
from companion_server.invoicing.pricing import Work, intervention_lines, percent
from companion_server.models import (
    Installation,
    InterventionEntry,
    InvoiceLine,
    RemoteWindow,
    User,
)
from companion_server.parsing import parse_int

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.invoicing.store import InvoiceStore
    from companion_server.models import Invoice

FINISHED = ("ended", "expired", "revoked")
ACTION = "action_result"


@dataclass(frozen=True, slots=True)
class Finished:
    """A finished remote intervention, the window it used and whether it is invoiced."""

    window_id: int
    installation_id: int
    installation_name: str
    start: datetime
    end: datetime
    invoiced: bool


async def used_window(db: AsyncSession, window: RemoteWindow) -> tuple[datetime, datetime] | None:
    """When the window opened and closed, as journalled (None if never opened or still open)."""
    if window.state not in FINISHED:
        return None
    start = await db.scalar(
        select(InterventionEntry.at)
        .where(
            InterventionEntry.installation_id == window.installation_id,
            InterventionEntry.kind == "window_granted",
            InterventionEntry.at >= window.requested_at,
            InterventionEntry.at <= window.changed_at,
        )
        .order_by(InterventionEntry.at)
        .limit(1)
    )
    if start is None:
        return None
    end = window.changed_at if window.until is None else min(window.changed_at, window.until)
    return start, max(start, end)


@dataclass(frozen=True, slots=True)
class Terms:
    """How a finished intervention is priced: the plan it ran under, whether it was free."""

    plan: PlanTerms
    free_remote: bool

    @property
    def plan_name(self) -> str:
        """The plan's name (to translate)."""
        return OFFER_BY_CODE[self.plan.code].name

    @property
    def discount_percent(self) -> str:
        """The plan's discount in percent, as printed on the invoice's lines."""
        return percent(self.plan.discount_basis_points)


async def terms_of(
    db: AsyncSession, window: RemoteWindow, used: tuple[datetime, datetime]
) -> Terms:
    """The plan running when the window opened; remote diagnostics free for its holders."""
    plan = await plan_terms(db, window.installation_id, used[0])
    if not plan.free_remote_diagnostics:
        return Terms(plan, free_remote=False)
    acted = await db.scalar(
        select(InterventionEntry.id)
        .where(
            InterventionEntry.installation_id == window.installation_id,
            InterventionEntry.kind == ACTION,
            InterventionEntry.at >= used[0],
            InterventionEntry.at <= used[1],
        )
        .limit(1)
    )
    return Terms(plan, free_remote=acted is None)


def _source_prefix(window_id: int) -> str:
    return f"intervention:{window_id}:"


async def finished(db: AsyncSession, company_id: int) -> list[Finished]:
    """The company's finished remote interventions, newest first."""
    rows = await db.execute(
        select(RemoteWindow, Installation.name)
        .join(Installation, Installation.id == RemoteWindow.installation_id)
        .where(Installation.company_id == company_id, RemoteWindow.state.in_(FINISHED))
        .order_by(RemoteWindow.changed_at.desc())
        .limit(200)
    )
    result = []
    for window, name in rows:
        used = await used_window(db, window)
        if used is None:
            continue
        invoiced = await db.scalar(
            select(InvoiceLine.id)
            .where(InvoiceLine.source.startswith(_source_prefix(window.id)))
            .limit(1)
        )
        result.append(
            Finished(window.id, window.installation_id, name, *used, invoiced is not None)
        )
    return result


async def finished_terms(
    db: AsyncSession, company_id: int, window_id: int
) -> tuple[Finished, Terms]:
    """One finished intervention of the company and how it is priced (else not found)."""
    window = await db.get(RemoteWindow, window_id)
    installation = await db.get(Installation, window.installation_id) if window else None
    if window is None or installation is None or installation.company_id != company_id:
        raise NotFound()
    used = await used_window(db, window)
    if used is None:
        raise NotFound()
    invoiced = await db.scalar(
        select(InvoiceLine.id)
        .where(InvoiceLine.source.startswith(_source_prefix(window.id)))
        .limit(1)
    )
    row = Finished(window.id, installation.id, installation.name, *used, invoiced is not None)
    return row, await terms_of(db, window, used)


def _form_numbers(values: dict[str, str]) -> tuple[int, int]:
    errors: dict[str, str] = {}
    minutes = parse_int(values.get("on_site_minutes", "0") or "0", 0, 24 * 60)
    trips = parse_int(values.get("trips", "0") or "0", 0, 20)
    if minutes is None:
        errors["on_site_minutes"] = "Enter the minutes on site (0 to 1440)."
    if trips is None:
        errors["trips"] = "Enter the number of trips (0 to 20)."
    if errors:
        raise ValidationFailed(errors)
    assert minutes is not None and trips is not None
    return minutes, trips


async def invoice_intervention(
    core: Core, actor: User, window_id: int, values: dict[str, str], store: InvoiceStore
) -> Invoice:
    """Issue the invoice of a finished intervention of the administrator's company, once."""
    minutes, trips = _form_numbers(values)
    async with core.tx() as db:
        window = await db.get(RemoteWindow, window_id)
        installation = await db.get(Installation, window.installation_id) if window else None
        if window is None or installation is None or installation.company_id != actor.company_id:
            raise NotFound()
        used = await used_window(db, window)
        if used is None:
            raise NotFound()
        already = await db.scalar(
            select(InvoiceLine.id).where(InvoiceLine.source.startswith(_source_prefix(window.id)))
        )
        if already is not None:
            raise ValidationFailed({"window": "This intervention is invoiced already."})
        customer = await customer_of(db, installation.id)
        if customer is None:
            raise ValidationFailed({"window": "The installation has no customer account."})
        seller = await seller_of(db, actor.company_id)
        buyer = Buyer(
            customer.name,
            customer.email,
            values.get("street", ""),
            values.get("postcode", ""),
            values.get("city", ""),
            values.get("country", "").strip().upper(),
        )
        terms = await terms_of(db, window, used)
        start, end = (None, None) if terms.free_remote else used
        lines = intervention_lines(
            Work(window.id, start, end, minutes, trips),
            discount_basis_points=terms.plan.discount_basis_points,
            vat_rate_basis_points=seller.vat_rate_basis_points,
        )
        if not lines:
            raise ValidationFailed(
                {"window": "Nothing to invoice: remote diagnostics are free with a support plan."}
            )
        deducted, advances = await deductions(db, installation, used[1])
        lines += deducted
        if gross_of(lines) < 0:
            raise ValidationFailed(
                {
                    "window": "The work cost less than the advance: credit the advance"
                    " invoice's unused lines first."
                }
            )
        invoice = await issue_invoice(
            db,
            company_id=actor.company_id,
            customer_id=customer.id,
            buyer=buyer,
            lines=lines,
            language=customer.language,
            now=core.now(),
            store=store,
        )
        for advance in advances:
            advance.settled_by_invoice_id = invoice.id
        return invoice
