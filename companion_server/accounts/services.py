"""Accounts (O1-O4, O11): company sign-up, confirmation, login and lockout, reset, profile.

No answer tells whether an address has an account: sign-up, login failures and reset
requests look the same for known and unknown addresses; mail goes to the address owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import re
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from companion_server.accounts import lockout
from companion_server.errors import NotFound, RateLimited, ValidationFailed
from companion_server.i18n import LANGUAGES
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    Company,
    LockReason,
    Role,
    Session,
    TokenKind,
    User,
    UserToken,
)
from companion_server.security import ratelimit, sessions
from companion_server.security.audit import Event, record
from companion_server.security.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from companion_server.security.tokens import hash_token, new_token

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

EMAIL_RE = re.compile(
    r"^[^@\s<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}$"
)
INVALID_LINK = "This link is invalid, has already been used or has expired."


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


# -- validation -------------------------------------------------------------------------


def normalize_email(raw: str) -> str | None:
    """The canonical (trimmed, lower-case) form of an address, or None when invalid."""
    email = raw.strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        return None
    return email


def _require_email(raw: str, errors: dict[str, str], field: str = "email") -> str:
    email = normalize_email(raw)
    if email is None:
        errors[field] = "Enter a valid e-mail address."
        return ""
    return email


def _require_text(raw: str, field: str, message: str, errors: dict[str, str]) -> str:
    value = " ".join(raw.split())
    if not value:
        errors[field] = message
    elif len(value) > 200:
        errors[field] = "This text is too long (200 characters at most)."
    return value


def check_password(password: str, confirm: str, email: str, errors: dict[str, str]) -> None:
    """Password policy: 10 to 256 characters, not containing the address, typed twice."""
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = "The password must have at least 10 characters."  # noqa: S105
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors["password"] = "The password is too long (256 characters at most)."  # noqa: S105
    elif email and email.split("@")[0] in password.lower() and len(email.split("@")[0]) >= 3:
        errors["password"] = "The password must not contain your e-mail address."  # noqa: S105
    elif password != confirm:
        errors["password_confirm"] = "The two passwords are not the same."  # noqa: S105


def _language(raw: str, errors: dict[str, str]) -> str:
    if raw not in LANGUAGES:
        errors["language"] = "Choose one of the offered languages."
    return raw


# -- helpers ----------------------------------------------------------------------------


async def user_by_email(db: AsyncSession, email: str) -> User | None:
    """The user with this (normalized) address."""
    user: User | None = await db.scalar(select(User).where(User.email == email))
    return user


async def _end_tokens(db: AsyncSession, now: datetime, user_id: int, kind: TokenKind) -> None:
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
        await _end_tokens(db, now, user.id, kind)
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


async def _valid_token(
    db: AsyncSession, now: datetime, kind: TokenKind, token: str
) -> tuple[UserToken, User] | None:
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


def link(core: Core, path: str, token: str) -> str:
    """An absolute link into the portal for an e-mail."""
    return f"{core.settings.public_url}{path}/{token}"


async def _mail_allowed(db: AsyncSession, core: Core, email: str) -> bool:
    """Per-address limit on mails sent because of anonymous requests (no mail bombing)."""
    return await ratelimit.allowed(
        db, core.now(), "mail-address", email, core.settings.rate_limits.mail_per_address
    )


async def _send_confirmation(db: AsyncSession, core: Core, user: User, company: str) -> None:
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


async def _send_reset(db: AsyncSession, core: Core, user: User, kind: MailKind) -> None:
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


# -- sign-up and confirmation -----------------------------------------------------------


async def register_company(
    core: Core,
    *,
    company_name: str,
    name: str,
    email: str,
    password: str,
    password_confirm: str,
    language: str,
    ip: str,
) -> bool:
    """Sign up a company whose first user becomes its administrator (O1, O4).

    The user is active once the e-mailed link is followed. For an address that already has
    an account the owner gets a notice instead; the caller cannot tell the difference (the
    return value, True for a new account, is for tests and logs only).
    """
    errors: dict[str, str] = {}
    company_name = _require_text(company_name, "company", "Enter the company name.", errors)
    name = _require_text(name, "name", "Enter your name.", errors)
    email = _require_email(email, errors)
    check_password(password, password_confirm, email, errors)
    language = _language(language, errors)
    if errors:
        raise ValidationFailed(errors)
    async with core.tx() as db:
        await ratelimit.check(
            db, core.now(), "signup-ip", ip, core.settings.rate_limits.signup_per_ip
        )
    password_hash = await core.passwords.hash(password)
    try:
        async with core.tx() as db:
            return await _register(db, core, company_name, name, email, password_hash, language, ip)
    except IntegrityError:
        # Two sign-ups of one address at once: the other one won.
        return False


async def _register(
    db: AsyncSession,
    core: Core,
    company_name: str,
    name: str,
    email: str,
    password_hash: str,
    language: str,
    ip: str,
) -> bool:
    now = core.now()
    existing = await user_by_email(db, email)
    if existing is not None and existing.email_confirmed_at is not None:
        if await _mail_allowed(db, core, email):
            enqueue(
                db,
                now,
                MailKind.SIGNUP_EXISTING,
                email,
                existing.language,
                name=existing.name,
                forgot_link=f"{core.settings.public_url}/password/forgot",
            )
        await record(
            db, now, Event.SIGNUP, actor=existing, ip=ip, detail="address already registered"
        )
        return False
    if existing is not None:
        # An unconfirmed sign-up of the same address is replaced: the newest one wins, so
        # nobody can squat an address they cannot read (nor flood it with confirmations).
        if not await _mail_allowed(db, core, email):
            return False
        old_company = existing.company_id
        await db.delete(existing)
        await db.flush()
        others = await db.scalar(
            select(func.count()).select_from(User).where(User.company_id == old_company)
        )
        if not others:
            company_row = await db.get(Company, old_company)
            if company_row is not None:
                await db.delete(company_row)
    company = Company(name=company_name, created_at=now)
    db.add(company)
    await db.flush()
    user = User(
        company_id=company.id,
        email=email,
        name=name,
        password_hash=password_hash,
        role=Role.ADMIN.value,
        language=language,
        failed_logins=0,
        created_at=now,
    )
    db.add(user)
    await db.flush()
    await _send_confirmation(db, core, user, company.name)
    await record(db, now, Event.SIGNUP, actor=user, ip=ip, detail=f"company {company.name}")
    return True


async def token_is_valid(core: Core, kind: TokenKind, token: str) -> bool:
    """Whether an e-mailed link still works (GET shows the form, POST uses it)."""
    async with core.tx() as db:
        return await _valid_token(db, core.now(), kind, token) is not None


async def confirm_email(core: Core, token: str, ip: str) -> User:
    """Activate an account from its confirmation link (single use)."""
    async with core.tx() as db:
        now = core.now()
        found = await _valid_token(db, now, TokenKind.CONFIRM, token)
        if found is None:
            raise NotFound(INVALID_LINK)
        user_token, user = found
        user_token.used_at = now
        user.email_confirmed_at = now
        await record(db, now, Event.EMAIL_CONFIRMED, actor=user, ip=ip)
        return user


# -- login, lockout, reset --------------------------------------------------------------


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
            await _send_reset(db, core, user, MailKind.ACCOUNT_LOCKED)
        return LoginFailed(locked=True)
    if user.email_confirmed_at is None:
        company = await db.get(Company, user.company_id)
        if await _mail_allowed(db, core, user.email):
            await _send_confirmation(db, core, user, company.name if company else "")
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
            await _send_reset(db, core, user, MailKind.RESET_PASSWORD)


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
        found = await _valid_token(db, core.now(), TokenKind.RESET, token)
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
        found = await _valid_token(db, now, TokenKind.RESET, token)
        if found is None:
            raise NotFound(INVALID_LINK)
        _, user = found
        await _end_tokens(db, now, user.id, TokenKind.RESET)  # this link and any other
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


# -- profile and access data ------------------------------------------------------------


async def update_profile(core: Core, user_id: int, *, name: str, language: str, ip: str) -> User:
    """Change one's name and language (the e-mail address is changed by support only)."""
    errors: dict[str, str] = {}
    name = _require_text(name, "name", "Enter your name.", errors)
    language = _language(language, errors)
    if errors:
        raise ValidationFailed(errors)
    async with core.tx() as db:
        user = await db.get(User, user_id)
        if user is None:
            raise NotFound()
        user.name = name
        user.language = language
        await record(db, core.now(), Event.PROFILE_CHANGED, actor=user, ip=ip)
        return user


async def company_name(core: Core, company_id: int) -> str:
    """The name of a company."""
    async with core.tx() as db:
        company = await db.get(Company, company_id)
        return company.name if company else ""


async def set_language(core: Core, user_id: int, language: str) -> None:
    """Remember a logged-in user's language choice."""
    if language not in LANGUAGES:
        raise ValidationFailed({"language": "Choose one of the offered languages."})
    async with core.tx() as db:
        await db.execute(update(User).where(User.id == user_id).values(language=language))


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
        await _end_tokens(db, now, user.id, TokenKind.RESET)
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


async def logout(core: Core, token: str, ip: str) -> None:
    """End the current session."""
    async with core.tx() as db:
        loaded = await db.get(Session, hash_token(token))
        if loaded is not None:
            user = await db.get(User, loaded.user_id)
            await sessions.end_session(db, token)
            await record(db, core.now(), Event.LOGOUT, actor=user, ip=ip)


# -- operator tools ---------------------------------------------------------------------


async def create_admin(
    core: Core, *, company_name: str, name: str, email: str, password: str, language: str = "en"
) -> User:
    """Create a company with a confirmed administrator (``create-admin`` command)."""
    errors: dict[str, str] = {}
    company_name = _require_text(company_name, "company", "Enter the company name.", errors)
    name = _require_text(name, "name", "Enter your name.", errors)
    email = _require_email(email, errors)
    check_password(password, password, email, errors)
    language = _language(language, errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = await core.passwords.hash(password)
    async with core.tx() as db:
        now = core.now()
        if await user_by_email(db, email) is not None:
            raise ValidationFailed({"email": "This address already has an account."})
        company = Company(name=company_name, created_at=now)
        db.add(company)
        await db.flush()
        user = User(
            company_id=company.id,
            email=email,
            name=name,
            password_hash=password_hash,
            role=Role.ADMIN.value,
            language=language,
            failed_logins=0,
            created_at=now,
            email_confirmed_at=now,
            password_changed_at=now,
        )
        db.add(user)
        await db.flush()
        await record(db, now, Event.ADMIN_CREATED, actor=user, detail="command line")
        return user


async def lock_account(core: Core, email: str, *, locked: bool) -> bool:
    """Lock (suspected fraud or abuse, O2) or unlock an account; its sessions end."""
    normalized = normalize_email(email)
    async with core.tx() as db:
        user = await user_by_email(db, normalized or "")
        if user is None:
            return False
        now = core.now()
        if locked:
            user.locked_at = now
            user.lock_reason = LockReason.ABUSE
            await sessions.end_user_sessions(db, user.id)
            await record(db, now, Event.ACCOUNT_LOCKED, actor=user, detail="operator: abuse")
        else:
            user.locked_at = None
            user.lock_reason = None
            user.failed_logins = 0
            await record(db, now, Event.ACCOUNT_UNLOCKED, actor=user, detail="operator")
        return True
