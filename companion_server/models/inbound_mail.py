"""Tickets by e-mail: which messages were already taken in, and whom a refusal answered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class InboundMailClaim(Base):
    """One way of recognising a received message (its Message-ID, or its fingerprint).

    The unique key is what makes copies of one message, delivered to several addresses or
    to several portal instances at once, end as one ticket: the second insert fails.
    """

    __tablename__ = "inbound_mail_claims"
    __table_args__ = (Index("ix_inbound_mail_claims_claimed_at", "claimed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of what identifies it
    # Set once the ticket exists (or the reply is on it); None while it is being created.
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InboundMailReply(Base):
    """When a sender was last told why their message was refused (one reply an hour)."""

    __tablename__ = "inbound_mail_replies"

    address: Mapped[str] = mapped_column(String(254), primary_key=True)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
