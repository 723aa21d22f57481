"""What Home Assistant reports of an installation: consent, connection, devices, alerts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class Monitoring(StrEnum):
    """The customer's answer to "Activate Serv-e-go" (monitoring consent)."""

    NONE = "none"
    REQUESTED = "requested"
    GRANTED = "granted"
    DECLINED = "declined"
    REVOKED = "revoked"


class InstallationState(Base):
    """What the portal knows of an installation: consent, connection and box state."""

    __tablename__ = "installation_states"

    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), primary_key=True
    )
    monitoring: Mapped[str] = mapped_column(String(20), default=Monitoring.NONE.value)
    monitoring_request_id: Mapped[str | None] = mapped_column(String(36))
    monitoring_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    connected_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    integration_version: Mapped[str | None] = mapped_column(String(40))
    box_online: Mapped[bool | None] = mapped_column(Boolean)
    box_online_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    box_activated: Mapped[bool | None] = mapped_column(Boolean)
    box_up_to_date: Mapped[bool | None] = mapped_column(Boolean)
    firmware: Mapped[str | None] = mapped_column(String(100))
    # The digest of the last snapshot applied whole in one frame, while no device changed
    # since: the same snapshot again (every Home Assistant after a portal restart) is not
    # read, validated nor written (``hub.protocol.snapshot_digest``).
    snapshot_digest: Mapped[str | None] = mapped_column(String(64))


class Device(Base):
    """A product paired with the box, as Home Assistant last reported it."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("installation_id", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(300))
    label: Mapped[str] = mapped_column(String(200))
    protocol: Mapped[str | None] = mapped_column(String(20))
    ui_class: Mapped[str | None] = mapped_column(String(100))
    online: Mapped[bool | None] = mapped_column(Boolean)
    rssi: Mapped[int | None] = mapped_column(Integer)
    rssi_level: Mapped[str | None] = mapped_column(String(20))
    battery: Mapped[str | None] = mapped_column(String(40))
    defect: Mapped[str | None] = mapped_column(String(40))
    # A cover's closure in percent (0 open, 100 closed).
    position: Mapped[int | None] = mapped_column(Integer)
    editable: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sample_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RadioSample(Base):
    """One radio level reading of a device (the history chart)."""

    __tablename__ = "radio_samples"
    __table_args__ = (
        Index("ix_radio_samples_device_at", "device_id", "at"),
        Index("ix_radio_samples_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    rssi: Mapped[int] = mapped_column(Integer)


class Alert(Base):
    """An alert raised (and maybe cleared) on an installation."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("installation_id", "alert_id"),
        Index("ix_alerts_installation_at", "installation_id", "at"),
        # The installations list counts active alerts of every installation at once.
        Index("ix_alerts_active_installation", "active", "installation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    alert_id: Mapped[str] = mapped_column(String(100))
    device_url: Mapped[str | None] = mapped_column(String(300))
    device_label: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertFollowUp(Base):
    """Who acknowledged an alert and who of the company is to deal with it."""

    __tablename__ = "alert_follow_ups"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(200))
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertSetting(Base):
    """Which alert types of an installation e-mail which collaborator."""

    __tablename__ = "alert_settings"

    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    alert_type: Mapped[str] = mapped_column(String(40), primary_key=True)
