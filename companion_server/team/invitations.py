"""Invitations of collaborators into a company: sending, withdrawing, accepting (O3, O5).

Only administrators invite; the invited person follows a single-use link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from companion_server.accounts.invitations import (
    Claimed,
    NewAccount,
    is_usable,
    open_account,
    peek,
)
from companion_server.accounts.users import user_by_email
from companion_server.accounts.validation import normalize_email
from companion_server.errors import NotFound, ValidationFailed
from companion_server.i18n import LANGUAGES
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import Company, Invitation, Role, User
from companion_server.security.audit import Event, record
from companion_server.security.tokens import hash_token, new_token
from companion_server.team.limits import check_invitation
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


@dataclass(slots=True)
class InvitationView:
    """A usable invitation, as shown to the invited person."""

    invitation: Invitation
    company_name: str


INVITED_ROLES = (Role.INSTALLER.value, Role.OPERATOR.value)


async def invite(
    core: Core,
    actor_id: int,
    *,
    email: str,
    language: str,
    ip: str,
    role: str = Role.INSTALLER.value,
) -> None:
    """Invite a collaborator by e-mail: a single-use link valid ``invitation_days`` (O5).

    ``role``: an installer, or an operator of the monitoring centre's console.

    An address that already has an account in another company is told so by mail instead
    (one login per person, O3). The administrator cannot tell the two apart: both leave the
    same pending invitation on the team page, and both count against the same daily limits
    (per company, and per company and address).
    """
    normalized = normalize_email(email)
    errors: dict[str, str] = {}
    if normalized is None:
        errors["email"] = "Enter a valid e-mail address."
    if language not in LANGUAGES:
        errors["language"] = "Choose one of the offered languages."
    if role not in INVITED_ROLES:
        errors["role"] = "Choose one of the offered roles."
    if errors or normalized is None:
        raise ValidationFailed(errors)
    async with core.tx() as db:
        now = core.now()
        actor = await fresh_actor(db, actor_id)
        company = await db.get(Company, actor.company_id)
        assert company is not None
        existing = await user_by_email(db, normalized)
        if existing is not None and existing.company_id == actor.company_id:
            raise ValidationFailed({"email": "This person is already in your team."})
        await check_invitation(db, core, actor.company_id, normalized)
        await record(db, now, Event.INVITATION_SENT, actor=actor, target_email=normalized, ip=ip)
        # A new invitation replaces a pending one to the same address.
        await db.execute(
            update(Invitation)
            .where(
                Invitation.company_id == actor.company_id,
                Invitation.email == normalized,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        token, token_hash = new_token()
        days = core.settings.invitation_days
        db.add(
            Invitation(
                company_id=actor.company_id,
                email=normalized,
                language=language,
                role=role,
                token_hash=token_hash,
                invited_by_id=actor.id,
                created_at=now,
                expires_at=now + timedelta(days=days),
            )
        )
        if existing is not None:
            # No link: the invitation cannot be accepted by someone who has an account.
            enqueue(
                db,
                now,
                MailKind.INVITATION_EXISTING,
                normalized,
                existing.language,
                company=company.name,
                inviter=actor.name,
            )
            return
        enqueue(
            db,
            now,
            MailKind.INVITATION,
            normalized,
            language,
            company=company.name,
            inviter=actor.name,
            link=f"{core.settings.public_url}/invitation/{token}",
            days=days,
        )


async def revoke_invitation(core: Core, actor_id: int, invitation_id: int, ip: str) -> None:
    """Withdraw a pending invitation (its link stops working)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        invitation = await db.get(Invitation, invitation_id)
        if invitation is None or invitation.company_id != actor.company_id:
            raise NotFound()
        if invitation.accepted_at is None and invitation.revoked_at is None:
            invitation.revoked_at = core.now()
            await record(
                db,
                core.now(),
                Event.INVITATION_REVOKED,
                actor=actor,
                target_email=invitation.email,
                ip=ip,
            )


async def _usable_invitation(db: AsyncSession, now: datetime, token: str) -> InvitationView | None:
    row = (
        await db.execute(
            select(Invitation, Company)
            .join(Company, Company.id == Invitation.company_id)
            .where(Invitation.token_hash == hash_token(token))
        )
    ).first()
    if row is None:
        return None
    invitation, company = row._tuple()
    return InvitationView(invitation, company.name) if is_usable(invitation, now) else None


async def peek_invitation(core: Core, token: str) -> InvitationView:
    """The invitation behind a link, if it can still be accepted."""
    return await peek(core, _usable_invitation, token)


async def accept_invitation(
    core: Core,
    token: str,
    account: NewAccount,
    *,
    ip: str,
    user_agent: str,
) -> str:
    """Create the invited installer's account and log them in; return the session token."""
    view = await peek_invitation(core, token)

    async def claim(db: AsyncSession, now: datetime) -> Claimed | None:
        found = await _usable_invitation(db, now, token)
        if found is None:
            return None
        return Claimed(found.invitation, found.invitation.company_id, found.invitation.role)

    async def welcome(db: AsyncSession, now: datetime, user: User) -> None:
        await record(db, now, Event.INVITATION_ACCEPTED, actor=user, ip=ip)

    return await open_account(
        core, view.invitation.email, account, claim, welcome, ip=ip, user_agent=user_agent
    )
