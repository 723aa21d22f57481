"""The interventions log, remote-service windows and the actions sent inside them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class InterventionEntry(Base):
    """The interventions log of an installation; notes are private to the author's company."""

    __tablename__ = "intervention_log"
    __table_args__ = (Index("ix_intervention_log_installation_at", "installation_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_name: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(Boolean, default=False)


class RemoteWindow(Base):
    """A remote-service request and the window Home Assistant granted for it (P13-P18)."""

    __tablename__ = "remote_windows"
    __table_args__ = (
        Index("ix_remote_windows_installation", "installation_id", "id"),
        # The open windows of every installation at once (revision 0020's; portals of that
        # revision still read it, revision 0024's read the company's below).
        Index("ix_remote_windows_open", "state", "until", "installation_id"),
        # A company's open windows (the work queue's "window" filter and count): read from
        # this index alone, whatever the number of installations.
        Index("ix_remote_windows_company_open", "company_id", "state", "until", "installation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    # The installation's company, copied so that a company's open windows are one index
    # range. The database fills it on insert when not given (revision 0024's trigger:
    # portals of earlier revisions insert without it); None only until that trigger ran.
    company_id: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    # requested, granted, declined, revoked, expired, ended
    state: Mapped[str] = mapped_column(String(20))
    kinds: Mapped[str] = mapped_column(Text, default="[]")
    hours: Mapped[int] = mapped_column(Integer, default=8)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str | None] = mapped_column(Text)


class RemoteAction(Base):
    """An installer's action sent to Home Assistant inside a window, and its result."""

    __tablename__ = "remote_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    window_id: Mapped[int] = mapped_column(
        ForeignKey("remote_windows.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(String(500))
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
