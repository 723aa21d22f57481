"""Login, its lockout after wrong passwords, and logout (O1-O2).

Login failures look the same for known and unknown addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion_server.accounts import lockout
from companion_server.accounts.links import mail_allowed, send_confirmation, send_reset
from companion_server.accounts.users import user_by_email
from companion_server.accounts.validation import normalize_email
from companion_server.errors import RateLimited
from companion_server.mail.outbox import MailKind
from companion_server.models import Company, LockReason, Session, User
from companion_server.security import ratelimit, sessions
from companion_server.security.audit import Event, record
from companion_server.security.tokens import hash_token

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


class LoginFailed(Exception):
    """Wrong address or password (``locked``: the account is, or now is, locked)."""

    def __init__(self, *, locked: bool, unconfirmed: bool = False) -> None:
        """Keep the kind of failure."""
        super().__init__("login failed")
        self.locked = locked
        self.unconfirmed = unconfirmed


@dataclass(slots=True)
class LoginResult:
    """A successful login: the new session's cookie token and the user."""

    token: str
    user: User


async def login(core: Core, *, email: str, password: str, ip: str, user_agent: str) -> LoginResult:
    """Log in with address and password (O1-O2): a new session on success.

    Three wrong passwords in a row lock the account until its owner follows a reset link
    (one is sent at that moment); the sessions already open stay (see
    :mod:`companion_server.accounts.lockout`). Unknown addresses answer exactly like known
    ones.
    """
    settings = core.settings
    normalized = normalize_email(email) or ""
    rule = settings.rate_limits.login_per_ip
    async with core.tx() as db:
        within_limit = await ratelimit.allowed(db, core.now(), "login-ip", ip, rule)
        if not within_limit:
            await record(
                db,
                core.now(),
                Event.RATE_LIMITED,
                actor_email=normalized or None,
                ip=ip,
                detail="login",
            )
        user = await user_by_email(db, normalized) if normalized and within_limit else None
        stored_hash = user.password_hash if user else None
    if not within_limit:
        raise RateLimited(rule.window_seconds - int(core.now().timestamp()) % rule.window_seconds)
    verified = await core.passwords.verify(stored_hash, password)
    new_hash = None
    if verified and stored_hash and core.passwords.needs_rehash(stored_hash):
        new_hash = await core.passwords.hash(password)
    # Failures are committed before they are raised.
    async with core.tx() as db:
        outcome = await _login_outcome(
            db,
            core,
            user.id if user else None,
            normalized or email[:254],
            verified,
            new_hash,
            ip,
            user_agent,
        )
    if isinstance(outcome, LoginFailed):
        raise outcome
    return outcome


async def _login_outcome(
    db: AsyncSession,
    core: Core,
    user_id: int | None,
    email: str,
    verified: bool,
    new_hash: str | None,
    ip: str,
    user_agent: str,
) -> LoginResult | LoginFailed:
    settings = core.settings
    now = core.now()
    # Row lock: concurrent attempts on one account are counted one after the other.
    user = await db.get(User, user_id, with_for_update=True) if user_id is not None else None
    if user is None:
        # Unknown address: count failures like an account would, answer the same.
        failures = await lockout.unknown_address_failed(db, now, email)
        await record(
            db, now, Event.LOGIN_FAILED, actor_email=email, ip=ip, detail="unknown address"
        )
        return LoginFailed(locked=failures >= settings.max_failed_logins)
    if user.locked_at is not None:
        await record(db, now, Event.LOGIN_REFUSED, actor=user, ip=ip, detail="account locked")
        return LoginFailed(locked=True)
    if not verified:
        user.failed_logins += 1
        await record(
            db, now, Event.LOGIN_FAILED, actor=user, ip=ip, detail=f"failure {user.failed_logins}"
        )
        if user.failed_logins < settings.max_failed_logins:
            return LoginFailed(locked=False)
        user.locked_at = now
        user.lock_reason = LockReason.FAILURES
        await record(
            db, now, Event.ACCOUNT_LOCKED, actor=user, ip=ip, detail="too many failed logins"
        )
        if await lockout.reset_mail_allowed(db, core, ip, user.email):
            await send_reset(db, core, user, MailKind.ACCOUNT_LOCKED)
        return LoginFailed(locked=True)
    if user.email_confirmed_at is None:
        company = await db.get(Company, user.company_id)
        if await mail_allowed(db, core, user.email):
            await send_confirmation(db, core, user, company.name if company else "")
        await record(
            db, now, Event.LOGIN_REFUSED, actor=user, ip=ip, detail="address not confirmed"
        )
        return LoginFailed(locked=False, unconfirmed=True)
    user.failed_logins = 0
    user.last_login_at = now
    if new_hash:
        user.password_hash = new_hash
    token = await sessions.create_session(db, now, user, ip, user_agent)
    await record(db, now, Event.LOGIN, actor=user, ip=ip)
    return LoginResult(token=token, user=user)


async def logout(core: Core, token: str, ip: str) -> None:
    """End the current session."""
    async with core.tx() as db:
        loaded = await db.get(Session, hash_token(token))
        if loaded is not None:
            user = await db.get(User, loaded.user_id)
            await sessions.end_session(db, token)
            await record(db, core.now(), Event.LOGOUT, actor=user, ip=ip)
