"""The audit log of security events (logins, failures, locks, invitations, roles, deletions)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from companion_server.i18n import N_
from companion_server.keyset import before_key, decode_cursor, encode_cursor, split_page
from companion_server.models import AuditEvent, User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


# Events per page of the security log.
PAGE_SIZE: Final = 50


class Event(StrEnum):
    """Kinds of audit events."""

    SIGNUP = "signup"
    EMAIL_CONFIRMED = "email_confirmed"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_REFUSED = "login_refused"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_UNLOCKED = "account_unlocked"
    LOGOUT = "logout"
    RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET = "password_reset"  # noqa: S105
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    PROFILE_CHANGED = "profile_changed"
    INVITATION_SENT = "invitation_sent"
    INVITATION_REVOKED = "invitation_revoked"
    INVITATION_ACCEPTED = "invitation_accepted"
    MEMBER_DELETED = "member_deleted"
    ROLE_CHANGED = "role_changed"
    INSTALLATION_ASSIGNED = "installation_assigned"
    INSTALLATION_UNASSIGNED = "installation_unassigned"
    RATE_LIMITED = "rate_limited"
    CSRF_REJECTED = "csrf_rejected"
    ADMIN_CREATED = "admin_created"


# What the security log page shows for each kind.
EVENT_LABELS: dict[str, str] = {
    Event.SIGNUP: N_("Company registration"),
    Event.EMAIL_CONFIRMED: N_("E-mail address confirmed"),
    Event.LOGIN: N_("Login"),
    Event.LOGIN_FAILED: N_("Failed login"),
    Event.LOGIN_REFUSED: N_("Login refused"),
    Event.ACCOUNT_LOCKED: N_("Account locked"),
    Event.ACCOUNT_UNLOCKED: N_("Account unlocked"),
    Event.LOGOUT: N_("Logout"),
    Event.RESET_REQUESTED: N_("Password reset requested"),
    Event.PASSWORD_RESET: N_("Password reset"),
    Event.PASSWORD_CHANGED: N_("Password changed"),
    Event.PROFILE_CHANGED: N_("Profile changed"),
    Event.INVITATION_SENT: N_("Invitation sent"),
    Event.INVITATION_REVOKED: N_("Invitation withdrawn"),
    Event.INVITATION_ACCEPTED: N_("Invitation accepted"),
    Event.MEMBER_DELETED: N_("Collaborator deleted"),
    Event.ROLE_CHANGED: N_("Role changed"),
    Event.INSTALLATION_ASSIGNED: N_("Installation assigned"),
    Event.INSTALLATION_UNASSIGNED: N_("Installation unassigned"),
    Event.RATE_LIMITED: N_("Too many attempts"),
    Event.CSRF_REJECTED: N_("Forged or expired form refused"),
    Event.ADMIN_CREATED: N_("Administrator created by the operator"),
}


async def record(
    db: AsyncSession,
    now: datetime,
    kind: Event,
    *,
    company_id: int | None = None,
    actor: User | None = None,
    actor_email: str | None = None,
    target_email: str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one event (in the caller's transaction)."""
    db.add(
        AuditEvent(
            at=now,
            kind=kind.value,
            company_id=company_id if company_id is not None else (actor and actor.company_id),
            actor_id=actor.id if actor else None,
            actor_email=actor.email if actor else actor_email,
            target_email=target_email,
            ip=ip,
            detail=detail[:500] if detail else None,
        )
    )


async def company_events(
    db: AsyncSession, company_id: int, after: str | None = None
) -> tuple[list[AuditEvent], str | None]:
    """One page of a company's events, newest first, and where the next page starts.

    Keyset pagination on (time, id) over the ``(company_id, at)`` index; a cursor that does
    not read (edited, cut) opens the first page.
    """
    query = select(AuditEvent).where(AuditEvent.company_id == company_id)
    start = decode_cursor(after, str)
    if start is not None:
        try:
            at = datetime.fromisoformat(start[0])
        except ValueError:
            at = None
        if at is not None and at.tzinfo is not None:
            query = query.where(before_key(AuditEvent.at, AuditEvent.id, (at, start[1])))
    found, last = split_page(
        list(
            await db.scalars(
                query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
            )
        ),
        PAGE_SIZE,
    )
    return found, None if last is None else encode_cursor(last.at.isoformat(), last.id)
