"""Passwords: reset by an e-mailed link, and change by their owner.

A reset request looks the same for known and unknown addresses; mail goes to the owner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.accounts import lockout
from companion_server.accounts.links import INVALID_LINK, end_tokens, send_reset, valid_token
from companion_server.accounts.users import user_by_email
from companion_server.accounts.validation import check_password, normalize_email
from companion_server.errors import NotFound, ValidationFailed
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import LockReason, TokenKind, User
from companion_server.security import ratelimit, sessions
from companion_server.security.audit import Event, record

if TYPE_CHECKING:
    from companion_server.core import Core


async def request_password_reset(core: Core, *, email: str, ip: str) -> None:
    """E-mail a reset link to the address if it has an account (same answer otherwise)."""
    normalized = normalize_email(email)
    if normalized is None:
        raise ValidationFailed({"email": "Enter a valid e-mail address."})
    async with core.tx() as db:
        now = core.now()
        await ratelimit.check(db, now, "reset-ip", ip, core.settings.rate_limits.reset_per_ip)
        # Counted for unknown addresses too: the answer and the limits are the same.
        mail_allowed = await lockout.reset_mail_allowed(db, core, ip, normalized)
        user = await user_by_email(db, normalized)
        await record(
            db,
            now,
            Event.RESET_REQUESTED,
            actor=user,
            actor_email=normalized,
            ip=ip,
            detail=None if user else "unknown address",
        )
        if user is not None and mail_allowed:
            await send_reset(db, core, user, MailKind.RESET_PASSWORD)


async def reset_password(
    core: Core,
    *,
    token: str,
    password: str,
    password_confirm: str,
    ip: str,
    session_token: str | None = None,
) -> User:
    """Set a new password from a reset link: unlocks the account and ends its sessions.

    The session of the browser doing it (``session_token``) stays open if it is the user's.
    """
    async with core.tx() as db:
        found = await valid_token(db, core.now(), TokenKind.RESET, token)
        if found is None:
            raise NotFound(INVALID_LINK)
        email = found[1].email
    errors: dict[str, str] = {}
    check_password(password, password_confirm, email, errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = await core.passwords.hash(password)
    async with core.tx() as db:
        now = core.now()
        found = await valid_token(db, now, TokenKind.RESET, token)
        if found is None:
            raise NotFound(INVALID_LINK)
        _, user = found
        await end_tokens(db, now, user.id, TokenKind.RESET)  # this link and any other
        user.password_hash = password_hash
        user.password_changed_at = now
        user.failed_logins = 0
        if user.email_confirmed_at is None:
            user.email_confirmed_at = now  # the link proves the address
        if user.locked_at is not None and user.lock_reason == LockReason.FAILURES:
            user.locked_at = None
            user.lock_reason = None
            await record(db, now, Event.ACCOUNT_UNLOCKED, actor=user, ip=ip, detail="reset link")
        await sessions.end_user_sessions(db, user.id, keep_token=session_token)
        await record(db, now, Event.PASSWORD_RESET, actor=user, ip=ip)
        return user


async def change_password(
    core: Core,
    user_id: int,
    *,
    current: str,
    password: str,
    password_confirm: str,
    session_token: str,
    ip: str,
) -> User:
    """Change one's password; every other session of the user ends; a notice is mailed."""
    await lockout.check_password_attempt(core, user_id, session_token)
    async with core.tx() as db:
        user = await db.get(User, user_id)
        if user is None:
            raise NotFound()
        stored_hash, email = user.password_hash, user.email
    errors: dict[str, str] = {}
    if not await core.passwords.verify(stored_hash, current):
        errors["current"] = "The current password is wrong."
    check_password(password, password_confirm, email, errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = await core.passwords.hash(password)
    async with core.tx() as db:
        now = core.now()
        user = await db.get(User, user_id)
        if user is None:
            raise NotFound()
        user.password_hash = password_hash
        user.password_changed_at = now
        await end_tokens(db, now, user.id, TokenKind.RESET)
        await sessions.end_user_sessions(db, user.id, keep_token=session_token)
        await record(db, now, Event.PASSWORD_CHANGED, actor=user, ip=ip)
        enqueue(
            db,
            now,
            MailKind.PASSWORD_CHANGED,
            user.email,
            user.language,
            name=user.name,
            forgot_link=f"{core.settings.public_url}/password/forgot",
        )
        return user
