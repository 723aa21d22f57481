"""Looking a user up, and what users change of themselves: name, language, time zone (O11)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update

from companion_server.accounts.validation import require_language, require_text
from companion_server.errors import NotFound, ValidationFailed
from companion_server.i18n import LANGUAGES
from companion_server.i18n.dates import valid_time_zone
from companion_server.models import Company, Role, User
from companion_server.security.audit import Event, record

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


async def user_by_email(db: AsyncSession, email: str) -> User | None:
    """The user with this (normalized) address."""
    user: User | None = await db.scalar(select(User).where(User.email == email))
    return user


async def update_profile(
    core: Core, user_id: int, *, name: str, language: str, ip: str, time_zone: str = ""
) -> User:
    """Change one's name, language and time zone (the address is changed by support only).

    An empty time zone keeps the one set (none yet: the browser's is taken at the next login).
    """
    errors: dict[str, str] = {}
    name = require_text(name, "name", "Enter your name.", errors)
    language = require_language(language, errors)
    if time_zone and not valid_time_zone(time_zone):
        errors["time_zone"] = "Choose a time zone from the list."
    if errors:
        raise ValidationFailed(errors)
    async with core.tx() as db:
        user = await db.get(User, user_id)
        if user is None:
            raise NotFound()
        user.name = name
        user.language = language
        if time_zone:
            user.time_zone = time_zone
        await record(db, core.now(), Event.PROFILE_CHANGED, actor=user, ip=ip)
        return user


async def default_time_zone(core: Core, user_id: int, time_zone: str) -> None:
    """Take the browser's time zone at login while the user has none (a bad one is ignored)."""
    if not valid_time_zone(time_zone):
        return
    async with core.tx() as db:
        await db.execute(
            update(User)
            .where(User.id == user_id, User.time_zone.is_(None))
            .values(time_zone=time_zone)
        )


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


async def new_company_with_admin(
    db: AsyncSession,
    now: datetime,
    *,
    company_name: str,
    name: str,
    email: str,
    password_hash: str,
    language: str,
    confirmed: bool,
) -> tuple[Company, User]:
    """A new company and its first administrator (address confirmed or still to confirm)."""
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
        email_confirmed_at=now if confirmed else None,
        password_changed_at=now if confirmed else None,
    )
    db.add(user)
    await db.flush()
    return company, user
