"""Company sign-up and confirmation of the address (O1, O4).

The answer to a sign-up does not tell whether the address has an account: its owner is
mailed instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from companion_server.accounts.links import (
    INVALID_LINK,
    mail_allowed,
    send_confirmation,
    valid_token,
)
from companion_server.accounts.users import new_company_with_admin, user_by_email
from companion_server.accounts.validation import (
    check_password,
    require_email,
    require_language,
    require_text,
)
from companion_server.errors import NotFound, ValidationFailed
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import Company, TokenKind, User
from companion_server.security import ratelimit
from companion_server.security.audit import Event, record

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


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
    company_name = require_text(company_name, "company", "Enter the company name.", errors)
    name = require_text(name, "name", "Enter your name.", errors)
    email = require_email(email, errors)
    check_password(password, password_confirm, email, errors)
    language = require_language(language, errors)
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
        if await mail_allowed(db, core, email):
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
        if not await mail_allowed(db, core, email):
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
    company, user = await new_company_with_admin(
        db,
        now,
        company_name=company_name,
        name=name,
        email=email,
        password_hash=password_hash,
        language=language,
        confirmed=False,
    )
    await send_confirmation(db, core, user, company.name)
    await record(db, now, Event.SIGNUP, actor=user, ip=ip, detail=f"company {company.name}")
    return True


async def confirm_email(core: Core, token: str, ip: str) -> User:
    """Activate an account from its confirmation link (single use)."""
    async with core.tx() as db:
        now = core.now()
        found = await valid_token(db, now, TokenKind.CONFIRM, token)
        if found is None:
            raise NotFound(INVALID_LINK)
        user_token, user = found
        user_token.used_at = now
        user.email_confirmed_at = now
        await record(db, now, Event.EMAIL_CONFIRMED, actor=user, ip=ip)
        return user
