"""Single-use links sent by e-mail: confirmation of an address and password reset."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import TokenKind, User, UserToken
from companion_server.security import ratelimit
from companion_server.security.tokens import hash_token, new_token

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

INVALID_LINK = "This link is invalid, has already been used or has expired."


async def end_tokens(db: AsyncSession, now: datetime, user_id: int, kind: TokenKind) -> None:
    """Mark a user's unused links of one kind as used."""
    await db.execute(
        update(UserToken)
        .where(UserToken.user_id == user_id, UserToken.kind == kind, UserToken.used_at.is_(None))
        .values(used_at=now)
    )


async def _issue_token(
    db: AsyncSession, now: datetime, user: User, kind: TokenKind, lifetime: timedelta
) -> str:
    # A new confirmation link replaces the earlier ones. Reset links stay valid until one of
    # them is used (or they expire): a stranger asking for links (or locking the account)
    # must not void the link the owner is about to follow.
    if kind != TokenKind.RESET:
        await end_tokens(db, now, user.id, kind)
    token, token_hash = new_token()
    db.add(
        UserToken(
            user_id=user.id,
            kind=kind.value,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


async def valid_token(
    db: AsyncSession, now: datetime, kind: TokenKind, token: str
) -> tuple[UserToken, User] | None:
    """The unused, unexpired link of this kind behind ``token``, with its user."""
    row = (
        await db.execute(
            select(UserToken, User)
            .join(User, User.id == UserToken.user_id)
            .where(UserToken.token_hash == hash_token(token), UserToken.kind == kind)
        )
    ).first()
    if row is None:
        return None
    user_token, user = row._tuple()
    if user_token.used_at is not None or user_token.expires_at <= now:
        return None
    return user_token, user


async def token_is_valid(core: Core, kind: TokenKind, token: str) -> bool:
    """Whether an e-mailed link still works (GET shows the form, POST uses it)."""
    async with core.tx() as db:
        return await valid_token(db, core.now(), kind, token) is not None


def link(core: Core, path: str, token: str) -> str:
    """An absolute link into the portal for an e-mail."""
    return f"{core.settings.public_url}{path}/{token}"


async def mail_allowed(db: AsyncSession, core: Core, email: str) -> bool:
    """Per-address limit on mails sent because of anonymous requests (no mail bombing)."""
    return await ratelimit.allowed(
        db, core.now(), "mail-address", email, core.settings.rate_limits.mail_per_address
    )


async def send_confirmation(db: AsyncSession, core: Core, user: User, company: str) -> None:
    """Mail a new confirmation link to the user."""
    token = await _issue_token(
        db, core.now(), user, TokenKind.CONFIRM, timedelta(hours=core.settings.confirm_token_hours)
    )
    enqueue(
        db,
        core.now(),
        MailKind.CONFIRM_SIGNUP,
        user.email,
        user.language,
        name=user.name,
        company=company,
        link=link(core, "/confirm", token),
        hours=core.settings.confirm_token_hours,
    )


async def send_reset(db: AsyncSession, core: Core, user: User, kind: MailKind) -> None:
    """Mail a password reset link to the user (``kind`` says why)."""
    minutes = core.settings.reset_token_minutes
    token = await _issue_token(db, core.now(), user, TokenKind.RESET, timedelta(minutes=minutes))
    enqueue(
        db,
        core.now(),
        kind,
        user.email,
        user.language,
        name=user.name,
        link=link(core, "/password/reset", token),
        minutes=minutes,
        attempts=core.settings.max_failed_logins,
    )
