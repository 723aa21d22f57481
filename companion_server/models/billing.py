"""What an installer company sells: its catalogue, the subscriptions, their charges.

Amounts are integer euro cents excluding VAT. A subscription keeps the price and VAT rate it
was taken at, so that a later catalogue change never rewrites what a customer agreed to.
Charges are written once per billed period (``source`` unique) and marked with the invoice
that carried them; the invoice itself lives in the invoicing area.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class BillingProfile(Base):
    """A company's VAT rate and the time zone its monthly periods are counted in."""

    __tablename__ = "billing_profiles"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    vat_rate_basis_points: Mapped[int] = mapped_column(Integer)
    time_zone: Mapped[str] = mapped_column(String(64))


class CatalogueItem(Base):
    """One service or support plan a company offers, at a monthly price."""

    __tablename__ = "catalogue_items"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(30))
    monthly_price_cents: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    # Support plans: the discount on interventions and the place in the ticket queue.
    discount_basis_points: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=0)


class ServiceSubscription(Base):
    """A customer's subscription to one catalogue item for one installation.

    ``ends_on`` is the first day without the service once a cancellation is pending (or
    done); ``ended_at`` is set when the service stopped before its period ended.
    """

    __tablename__ = "service_subscriptions"
    __table_args__ = (Index("ix_service_subscriptions_customer", "customer_id", "company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("catalogue_items.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(30))
    quantity: Mapped[int] = mapped_column(Integer, default=1)  # cameras of a recording
    monthly_price_cents: Mapped[int] = mapped_column(Integer)
    vat_rate_basis_points: Mapped[int] = mapped_column(Integer)
    time_zone: Mapped[str] = mapped_column(String(64))
    anchor_day: Mapped[int] = mapped_column(Integer)  # the day of the month periods start
    started_on: Mapped[date] = mapped_column(Date)
    billed_until: Mapped[date] = mapped_column(Date)  # end (exclusive) of the last charge
    ends_on: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServiceCharge(Base):
    """A charge line owed for a subscription: a period, or a credit of unused time."""

    __tablename__ = "service_charges"
    __table_args__ = (Index("ix_service_charges_customer", "customer_id", "company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(80), unique=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("service_subscriptions.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(30))
    quantity_milli: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    vat_rate_basis_points: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The invoicing area's invoice that carried it (no foreign key: another area's table).
    invoice_id: Mapped[int | None] = mapped_column(Integer, index=True)


class BillingAddress(Base):
    """Where a customer's invoices are addressed."""

    __tablename__ = "billing_addresses"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InstallationHandover(Base):
    """The signed handover protocol of an installation: when, and the uploaded document."""

    __tablename__ = "installation_handovers"

    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), primary_key=True
    )
    signed_on: Mapped[date] = mapped_column(Date)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("installation_documents.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
