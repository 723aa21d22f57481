"""The frames exchanged with Home Assistant: de-duplication and the resend queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class ReceivedFrame(Base):
    """The id of an acknowledged frame from Home Assistant, recorded once (de-duplication)."""

    __tablename__ = "received_frames"
    __table_args__ = (Index("ix_received_frames_received_at", "received_at"),)

    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), primary_key=True
    )
    frame_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PortalFrame(Base):
    """A frame for Home Assistant kept until acknowledged (resent after each reconnect)."""

    __tablename__ = "portal_frames"
    __table_args__ = (
        Index("ix_portal_frames_pending", "installation_id", "acked_at"),
        Index("ix_portal_frames_acked_at", "acked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    frame_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(30))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Past this, the frame is never sent (a live command that makes no sense later).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
