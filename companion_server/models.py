"""The portal's tables (SQLAlchemy 2 declarative ORM).

Later features add their own tables and columns through new Alembic revisions in
``companion_server/migrations/versions``; :func:`tests.companion.test_migrations` checks that
the models and the migrations agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; naive values are refused to catch mistakes early."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (needed by migrations on SQLite)."""

    metadata = MetaData(naming_convention=NAMING)


class Role(StrEnum):
    """A collaborator's role inside their installer company."""

    ADMIN = "admin"
    INSTALLER = "installer"


class TokenKind(StrEnum):
    """What a single-use e-mailed link is for."""

    CONFIRM = "confirm"
    RESET = "reset"


class LockReason(StrEnum):
    """Why an account is locked."""

    FAILURES = "failures"  # wrong passwords (maybe a stranger's): lifted by a reset link
    ABUSE = "abuse"  # an operator's decision: lifted by an operator only


class Company(Base):
    """An installer company; every user and installation belongs to exactly one."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    users: Mapped[list[User]] = relationship(back_populates="company", passive_deletes=True)


class User(Base):
    """One person (one login per person); e-mail addresses are unique and lower-case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lock_reason: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    company: Mapped[Company] = relationship(back_populates="users")

    @property
    def is_admin(self) -> bool:
        """Whether the user administers their company."""
        return self.role == Role.ADMIN

    @property
    def is_active(self) -> bool:
        """Whether the user may log in (confirmed and not locked)."""
        return self.email_confirmed_at is not None and self.locked_at is None

    @property
    def keeps_sessions(self) -> bool:
        """Whether the user's open sessions stay valid.

        A lock after wrong passwords stops new logins only: anyone can type wrong passwords,
        so it must not end the sessions the owner already has. An operator's lock ends them.
        """
        if self.email_confirmed_at is None:
            return False
        return self.locked_at is None or self.lock_reason == LockReason.FAILURES


class Session(Base):
    """A server-side login session; the cookie holds a token whose SHA-256 is the key."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(300))


class UserToken(Base):
    """A single-use, expiring link sent by e-mail (confirmation, password reset)."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Invitation(Base):
    """An invitation of a collaborator into a company (single use, expiring)."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Installation(Base):
    """A customer's box looked after by a company (registration and linking come later)."""

    __tablename__ = "installations"
    __table_args__ = (
        Index("ix_installations_company_id_id", "company_id", "id"),
        Index("ix_installations_box_pin", "box_pin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    box_pin: Mapped[str | None] = mapped_column(String(20))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InstallationAssignment(Base):
    """Which installers of the company work on which installation."""

    __tablename__ = "installation_assignments"
    __table_args__ = (
        Index("ix_installation_assignments_user_installation", "user_id", "installation_id"),
    )

    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """An e-mail waiting for (or done with) delivery; written in the same transaction."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "sent_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_addr: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """A security event; keeps the e-mail addresses so it outlives deleted accounts."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_company_at", "company_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    company_id: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    target_email: Mapped[str | None] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[str | None] = mapped_column(String(500))


class RateLimitCounter(Base):
    """A fixed-window counter; the key is a hash of (bucket, subject, window)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    count: Mapped[int] = mapped_column(Integer)


class UnknownAddressFailures(Base):
    """Failed logins with an address that has no account, counted like an account's.

    Without a time window, like an account's lock: an unknown address answers as a known one
    at any time. The key is the SHA-256 of the normalized address.
    """

    __tablename__ = "unknown_address_failures"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())


# -- linking, monitoring and the installation view -------------------------------


class RegistrationStatus(StrEnum):
    """Where an installation stands with its customer's Home Assistant (``Installation.status``)."""

    PENDING = "pending"  # registered by the installer, waiting for the customer's code
    LINKED = "linked"  # Home Assistant entered the code: the installation has a token
    UNLINKED = "unlinked"  # either side ended the link; a new code can be sent


class Monitoring(StrEnum):
    """The customer's answer to "Activate Serv-e-go" (monitoring consent)."""

    NONE = "none"
    REQUESTED = "requested"
    GRANTED = "granted"
    DECLINED = "declined"
    REVOKED = "revoked"


class Registration(Base):
    """One e-mailed validation code of an installation (single use, expiring, stored hashed)."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)


class InstallationLink(Base):
    """The link of an installation with one Home Assistant: its bearer token (hashed)."""

    __tablename__ = "installation_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    instance_id: Mapped[str] = mapped_column(String(100))
    ha_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(20))


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


class RemoteWindow(Base):
    """A remote-service request and the window Home Assistant granted for it (P13-P18)."""

    __tablename__ = "remote_windows"
    __table_args__ = (Index("ix_remote_windows_installation", "installation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
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


class RetentionMark(Base):
    """How far a retention task has got (e.g. radio history downsampled up to ``at``)."""

    __tablename__ = "retention_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
