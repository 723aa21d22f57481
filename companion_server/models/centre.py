"""The monitoring centre: each installation's subscription, the alarms it sent, the cases.

A case stores the call protocol's record (``centre/case_records.py``) as JSON, with the
values the queue and the timer search on copied into indexed columns. ``version`` counts the
steps: a step is written only over the version it was applied to, so two writers (an
operator and the timer, two portal instances) never both change one case. At most one case
of an installation is open at a time (a partial unique index).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime

_OPEN = text("closed_at IS NULL")
# The queue's urgency, from the case's kind (which never changes): aggression and fire, then
# intrusion, then tamper (``call_protocol.PRIORITY``). Derived, not stored, so no writer has
# to keep it up to date. Written out, never with bound values: a planner serves an ORDER BY
# or a range from an expression index only when the query spells the same expression. The
# line breaks are PostgreSQL's own when it prints the index back, so the schema check
# (Alembic's comparison, which ignores spaces but not line breaks) finds it unchanged.
QUEUE_URGENCY_SQL = (
    "(\nCASE kind\n"
    "    WHEN 'aggression' THEN 0\n"
    "    WHEN 'fire' THEN 0\n"
    "    WHEN 'intrusion' THEN 1\n"
    "    WHEN 'tamper' THEN 2\n"
    "    ELSE 3\nEND)"
)


class CentreSubscription(Base):
    """What the homeowner set up in Home Assistant for the monitoring centre (M1, M7-M11).

    ``contacts``, ``address`` and ``on_site`` hold the frame's JSON; a stopped subscription
    forgets contacts, address and instructions.
    """

    __tablename__ = "centre_subscriptions"

    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(10))
    complete: Mapped[bool] = mapped_column(Boolean)
    contacts: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    instructions: Mapped[str] = mapped_column(Text)
    on_site: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CentreCase(Base):
    """One alarm case handled by the company's operators."""

    __tablename__ = "centre_cases"
    __table_args__ = (
        Index("ix_centre_cases_company_open", "company_id", "closed_at"),
        Index("ix_centre_cases_phase_deadline", "phase", "deadline"),
        Index(
            "uq_centre_cases_open_installation",
            "installation_id",
            unique=True,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
        # The console's queue by keyset: a company's open cases, most urgent, then oldest,
        # first (migration 0025).
        Index(
            "ix_centre_cases_queue",
            "company_id",
            text(QUEUE_URGENCY_SQL),
            "opened_at",
            "id",
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    phase: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    # The contacts as they were when the case opened (names, phones, password hashes).
    contacts: Mapped[str] = mapped_column(Text)
    record: Mapped[str] = mapped_column(Text)


class CentreAlarm(Base):
    """An alarm Home Assistant sent to the centre (raised or restored): the case's history."""

    __tablename__ = "centre_alarms"
    __table_args__ = (Index("ix_centre_alarms_installation_at", "installation_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("centre_cases.id", ondelete="SET NULL"), index=True
    )
    alarm_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean)
    device_url: Mapped[str | None] = mapped_column(String(300))
    device_label: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
