"""Installation records: location, sub-installations, devices on file, documents, warranty."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class InstallationPlace(Base):
    """Where an installation is, and the reference it has in the export it came from."""

    __tablename__ = "installation_places"

    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), primary_key=True
    )
    street: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # The id the installation has in the monitoring export it was imported from.
    external_ref: Mapped[str | None] = mapped_column(String(100), index=True)


class SubInstallation(Base):
    """A part of an installation ("house", "garage") that devices are assigned to."""

    __tablename__ = "sub_installations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeviceRecord(Base):
    """A device on file: one of the box's products (``device_id``) or one added by hand."""

    __tablename__ = "device_records"
    # The company's warranties ending in a period, soonest first: one index range a page.
    __table_args__ = (
        Index("ix_device_records_company_warranty", "company_id", "warranty_ends_on", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), unique=True
    )
    sub_installation_id: Mapped[int | None] = mapped_column(
        ForeignKey("sub_installations.id", ondelete="SET NULL"), index=True
    )
    serial: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    label: Mapped[str | None] = mapped_column(String(200))
    installed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Stored so that the company's list of warranties ending soon reads an index (see
    # records/warranty.py, which sets both wherever the install date, the model or the
    # company's warranty table changes): the installation's company and the warranty's end
    # (None: no install date or no term for the model).
    company_id: Mapped[int | None] = mapped_column(Integer)
    warranty_ends_on: Mapped[date | None] = mapped_column(Date)


class InstallationDocument(Base):
    """A file of an installation, kept on disk under a generated name (never the client's)."""

    __tablename__ = "installation_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WarrantyTerm(Base):
    """How many months of warranty a company gives a device model."""

    __tablename__ = "warranty_terms"
    __table_args__ = (UniqueConstraint("company_id", "model"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(100))
    months: Mapped[int] = mapped_column(Integer)
