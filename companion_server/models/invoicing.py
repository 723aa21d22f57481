"""Invoices, credit notes, their lines, the seller's details, payments and provider events.

An invoice row is written once, when it is issued, and never updated: a correction is a
credit note (an invoice of kind ``credit_note`` naming the invoice it corrects). What a
payment changes is recorded in :class:`Payment`, never on the invoice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class SellerProfile(Base):
    """What a company prints as the seller on its invoices, and where it is paid."""

    __tablename__ = "seller_profiles"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    legal_name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    vat_id: Mapped[str] = mapped_column(String(20))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11), default="")
    vat_rate_basis_points: Mapped[int] = mapped_column(Integer, default=2000)
    payment_days: Mapped[int] = mapped_column(Integer, default=14)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceCounter(Base):
    """The last number a company gave; locked by the transaction that issues the next."""

    __tablename__ = "invoice_counters"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    """An issued invoice or credit note, with the parties as they were when it was issued."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("company_id", "number", name="uq_invoices_company_number"),
        Index("ix_invoices_customer", "customer_id", "id"),
        Index("ix_invoices_company_issued", "company_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(Integer)
    # invoice (UNTDID 1001 code 380) or credit_note (381)
    kind: Mapped[str] = mapped_column(String(12))
    credited_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(5))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_street: Mapped[str] = mapped_column(String(200))
    seller_postcode: Mapped[str] = mapped_column(String(20))
    seller_city: Mapped[str] = mapped_column(String(100))
    seller_country: Mapped[str] = mapped_column(String(2))
    seller_vat_id: Mapped[str] = mapped_column(String(20))
    seller_iban: Mapped[str] = mapped_column(String(34))
    seller_bic: Mapped[str] = mapped_column(String(11))
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_email: Mapped[str] = mapped_column(String(254))
    buyer_street: Mapped[str] = mapped_column(String(200))
    buyer_postcode: Mapped[str] = mapped_column(String(20))
    buyer_city: Mapped[str] = mapped_column(String(100))
    buyer_country: Mapped[str] = mapped_column(String(2))
    net_cents: Mapped[int] = mapped_column(Integer)
    vat_cents: Mapped[int] = mapped_column(Integer)
    gross_cents: Mapped[int] = mapped_column(Integer)
    # ISO 11649 (RF...): what the customer quotes on a bank transfer.
    creditor_reference: Mapped[str] = mapped_column(String(35), unique=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)


class InvoiceLine(Base):
    """One line of an invoice, as issued: its net amount and the VAT rate it is taxed at."""

    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position", name="uq_invoice_lines_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(100), index=True)
    description: Mapped[str] = mapped_column(String(300))
    quantity_milli: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    vat_rate_basis_points: Mapped[int] = mapped_column(Integer)
    net_cents: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)


class Payment(Base):
    """Money received for an invoice (or not matched to any), from one provider."""

    __tablename__ = "invoice_payments"
    __table_args__ = (
        UniqueConstraint("provider", "external_id", name="uq_invoice_payments_external"),
        Index("ix_invoice_payments_company_at", "company_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    provider: Mapped[str] = mapped_column(String(20))
    # The bank's entry reference or the card provider's payment id: a payment counts once.
    external_id: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(140), default="")
    amount_cents: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProviderEvent(Base):
    """A webhook event already processed: the same event id is never processed twice."""

    __tablename__ = "payment_provider_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_provider_events_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentMethod(Base):
    """How a customer pays a company: by bank transfer, or by a card the provider keeps."""

    __tablename__ = "payment_methods"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
