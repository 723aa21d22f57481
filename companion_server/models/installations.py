"""Installations, who works on them, and their link with a customer's Home Assistant."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from companion_server.models.base import Base, UTCDateTime


class Installation(Base):
    """A customer's box looked after by a company (registration and linking come later)."""

    __tablename__ = "installations"
    __table_args__ = (
        Index("ix_installations_company_id_id", "company_id", "id"),
        Index("ix_installations_box_pin", "box_pin"),
        # Keyset pagination of the installations list sorted by name.
        Index("ix_installations_company_name", "company_id", "name", "id"),
        # The registration requests waiting (pending) among a company's many linked boxes.
        Index("ix_installations_company_status", "company_id", "status", "id"),
        # The work queue, "problems first" (and each kind of problem) by keyset.
        Index("ix_installations_company_attention", "company_id", "attention", "id"),
        Index("ix_installations_company_attention_name", "company_id", "attention", "name", "id"),
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
    # What needs attention, as a score: ATTENTION_ALERTS + ATTENTION_OFFLINE +
    # ATTENTION_NOT_LINKED. The database keeps it (triggers of migration 0020 on this table,
    # installation_states and alerts): never written by the portal.
    attention: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


# The parts of ``Installation.attention``: active alerts under Serv-e-go; linked but Home
# Assistant or (under Serv-e-go) the box offline; not linked (pending or unlinked).
ATTENTION_ALERTS, ATTENTION_OFFLINE, ATTENTION_NOT_LINKED = 4, 2, 1


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


class RegistrationStatus(StrEnum):
    """Where an installation stands with its customer's Home Assistant (``Installation.status``)."""

    PENDING = "pending"  # registered by the installer, waiting for the customer's code
    LINKED = "linked"  # Home Assistant entered the code: the installation has a token
    UNLINKED = "unlinked"  # either side ended the link; a new code can be sent


class Registration(Base):
    """One e-mailed validation code of an installation (single use, expiring, stored hashed)."""

    __tablename__ = "registrations"
    __table_args__ = (
        # The "Registration requests" list, newest first by keyset: only the open codes.
        Index(
            "ix_registrations_open",
            "id",
            sqlite_where=text("used_at IS NULL AND superseded_at IS NULL"),
            postgresql_where=text("used_at IS NULL AND superseded_at IS NULL"),
        ),
        # Its page: the company's pending installations joined to their open code, by index.
        Index(
            "ix_registrations_open_installation",
            "installation_id",
            "id",
            sqlite_where=text("used_at IS NULL AND superseded_at IS NULL"),
            postgresql_where=text("used_at IS NULL AND superseded_at IS NULL"),
        ),
    )

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


# Substring search of the installations list ("contains"): pg_trgm's GIN indexes on
# PostgreSQL (a B-tree cannot serve a pattern with a leading wildcard). Migration 0018 creates
# them when the extension is available. SQLite: the FTS5 trigram table of migration 0025,
# kept by triggers, not a model (see companion_server.installations.search).
for _name, _column in (("name", Installation.name), ("email", Installation.customer_email)):
    Index(
        f"ix_installations_{_name}_trgm",
        func.lower(_column).label(f"lower_{_name}"),
        postgresql_using="gin",
        postgresql_ops={f"lower_{_name}": "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")
