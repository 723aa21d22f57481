"""How far the retention tasks have got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class RetentionMark(Base):
    """How far a retention task has got (e.g. radio history downsampled up to ``at``)."""

    __tablename__ = "retention_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
