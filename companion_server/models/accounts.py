"""Companies, their users, login sessions, e-mailed links and invitations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion_server.models.base import Base, UTCDateTime


class Role(StrEnum):
    """A collaborator's role inside their installer company, or a portal-wide role."""

    ADMIN = "admin"
    INSTALLER = "installer"
    OPERATOR = "operator"  # handles the monitoring centre's cases, sees no installation
    # Portal-wide: members of the portal's own account holder (``Company.portal``), never of
    # an installer company, so no staff query of a company ever returns them.
    CUSTOMER = "customer"  # a homeowner: their installations, reports and tickets
    SUPPORT = "support"  # the manufacturer's support staff: every ticket of the portal


STAFF_ROLES = frozenset({Role.ADMIN, Role.INSTALLER})


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
    # The one row holding the portal-wide accounts (customers, support): it has no
    # installations and no administrator.
    portal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    users: Mapped[list[User]] = relationship(back_populates="company", passive_deletes=True)


class User(Base):
    """One person (one login per person); e-mail addresses are unique and lower-case."""

    __tablename__ = "users"
    # Keyset pagination by name: a company's customers; a company's team.
    __table_args__ = (
        Index("ix_users_name_id", "name", "id"),
        Index("ix_users_company_name_id", "company_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    # An IANA zone ("Europe/Paris") the pages show times in; None until the browser's is known.
    time_zone: Mapped[str | None] = mapped_column(String(64))
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
    def is_operator(self) -> bool:
        """Whether the user works only in the monitoring centre's console."""
        return self.role == Role.OPERATOR

    @property
    def is_staff(self) -> bool:
        """Whether the user works for an installer company (administrator or installer)."""
        return self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        """Whether the user is a homeowner with a customer account."""
        return self.role == Role.CUSTOMER

    @property
    def is_support(self) -> bool:
        """Whether the user is on the manufacturer's support staff."""
        return self.role == Role.SUPPORT

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
    # The role the invited person gets (installer or operator).
    role: Mapped[str] = mapped_column(String(20), server_default="installer")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UnknownAddressFailures(Base):
    """Failed logins with an address that has no account, counted like an account's.

    Without a time window, like an account's lock: an unknown address answers as a known one
    at any time. The key is the SHA-256 of the normalized address.
    """

    __tablename__ = "unknown_address_failures"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
