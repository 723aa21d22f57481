"""Forwarding alarms to an outside receiving centre (SIA DC-09): the link and its outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class SiaState(StrEnum):
    """Where a message to the centre stands."""

    PENDING = "pending"  # waiting for its turn or its next attempt
    DELIVERED = "delivered"  # acknowledged by the centre
    REJECTED = "rejected"  # refused by the centre (NAK, DUH): sending it again will not help
    FAILED = "failed"  # no valid answer after every attempt


class SiaCentre(Base):
    """A company's receiving centre, and the state its one sender keeps for it.

    The row is also the company's sending turn: one sender at a time holds it (locked on
    PostgreSQL, leased on SQLite), so messages leave in order and numbers never repeat.
    """

    __tablename__ = "sia_centres"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean)
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    account: Mapped[str] = mapped_column(String(16))
    receiver: Mapped[str] = mapped_column(String(6))
    line: Mapped[str] = mapped_column(String(6))
    message_format: Mapped[str] = mapped_column(String(10))
    # The AES key sealed with the portal's secret (see centre/sia/keystore.py); None: plain.
    sealed_key: Mapped[str | None] = mapped_column(Text)
    # The last sequence number given to a message (0: none yet).
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # SQLite: until when a sender holds the turn.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SiaMessage(Base):
    """An alarm or restore to forward, in the order it was queued per company."""

    __tablename__ = "sia_outbox"
    __table_args__ = (Index("ix_sia_outbox_company_state", "company_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    installation_id: Mapped[int | None] = mapped_column(
        ForeignKey("installations.id", ondelete="SET NULL"), index=True
    )
    account: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20))
    restore: Mapped[bool] = mapped_column(Boolean)
    device_label: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Given at the first attempt and kept by every retry (DC-09 recognises a repeat by it).
    sequence: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(10))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(40))
