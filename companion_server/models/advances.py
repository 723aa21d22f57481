"""Advance payments of interventions (D6): customers without a paid plan pay before the work.

An advance is an ordinary invoice (numbered, immutable) tied to the installation it pays
for. Until it is paid, or the company overrides the rule (who, when and why are kept),
remote service cannot be requested for that installation. The intervention's final
invoice deducts it and records that it settled it, so it is deducted once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class InterventionAdvance(Base):
    """An advance invoice for an installation's next intervention, and what became of it."""

    __tablename__ = "intervention_advances"
    __table_args__ = (Index("ix_intervention_advances_installation", "installation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), unique=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The company started the work before payment: who decided, when and why.
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    override_reason: Mapped[str] = mapped_column(String(300), default="")
    # The intervention's final invoice that deducted this advance.
    settled_by_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT")
    )
