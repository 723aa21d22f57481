"""The operator's account tools (``create-admin``, locking for abuse, O2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.accounts.users import new_company_with_admin, user_by_email
from companion_server.accounts.validation import (
    check_password,
    normalize_email,
    require_email,
    require_language,
    require_text,
)
from companion_server.errors import ValidationFailed
from companion_server.models import LockReason, User
from companion_server.security import sessions
from companion_server.security.audit import Event, record

if TYPE_CHECKING:
    from companion_server.core import Core


async def create_admin(
    core: Core, *, company_name: str, name: str, email: str, password: str, language: str = "en"
) -> User:
    """Create a company with a confirmed administrator (``create-admin`` command)."""
    errors: dict[str, str] = {}
    company_name = require_text(company_name, "company", "Enter the company name.", errors)
    name = require_text(name, "name", "Enter your name.", errors)
    email = require_email(email, errors)
    check_password(password, password, email, errors)
    language = require_language(language, errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = await core.passwords.hash(password)
    async with core.tx() as db:
        now = core.now()
        if await user_by_email(db, email) is not None:
            raise ValidationFailed({"email": "This address already has an account."})
        _, user = await new_company_with_admin(
            db,
            now,
            company_name=company_name,
            name=name,
            email=email,
            password_hash=password_hash,
            language=language,
            confirmed=True,
        )
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
