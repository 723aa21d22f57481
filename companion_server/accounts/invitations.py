"""What every invitation link shares: when it still works, and the account it opens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.exc import IntegrityError

from companion_server.accounts.links import INVALID_LINK
from companion_server.accounts.users import user_by_email
from companion_server.accounts.validation import check_password, require_language, require_text
from companion_server.errors import NotFound, ValidationFailed
from companion_server.models import User
from companion_server.security import sessions

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


class PendingInvitation(Protocol):
    """An invitation row of any kind (a collaborator's, a customer's)."""

    email: str
    accepted_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime


def is_usable(invitation: PendingInvitation, now: datetime) -> bool:
    """Neither accepted, nor withdrawn, nor expired."""
    return (
        invitation.accepted_at is None
        and invitation.revoked_at is None
        and invitation.expires_at > now
    )


async def peek[View](
    core: Core, find: Callable[[AsyncSession, datetime, str], Awaitable[View | None]], token: str
) -> View:
    """What ``find`` reads behind a link (None once it cannot be accepted), or NotFound."""
    async with core.tx() as db:
        view = await find(db, core.now(), token)
        if view is None:
            raise NotFound(INVALID_LINK)
        return view


@dataclass(frozen=True, slots=True)
class NewAccount:
    """What the invited person typed on the invitation page."""

    name: str
    password: str
    password_confirm: str
    language: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """The invitation found again in the accepting transaction, and the account it gives."""

    invitation: PendingInvitation
    company_id: int
    role: str


# Finds the invitation again (None once it cannot be accepted); then what else the new
# account receives in the same transaction.
Claim = Callable[["AsyncSession", "datetime"], Awaitable[Claimed | None]]
Welcome = Callable[["AsyncSession", "datetime", User], Awaitable[None]]


async def open_account(
    core: Core,
    email: str,
    account: NewAccount,
    claim: Claim,
    welcome: Welcome,
    *,
    ip: str,
    user_agent: str,
) -> str:
    """Create the invited person's account and log them in; return the session token.

    ``email`` is the invitation's, as shown on the page (the password must not contain it).
    """
    errors: dict[str, str] = {}
    name = require_text(account.name, "name", "Enter your name.", errors)
    check_password(account.password, account.password_confirm, email, errors)
    require_language(account.language, errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = await core.passwords.hash(account.password)
    try:
        async with core.tx() as db:
            now = core.now()
            found = await claim(db, now)
            if found is None or await user_by_email(db, found.invitation.email) is not None:
                raise NotFound(INVALID_LINK)
            found.invitation.accepted_at = now
            user = User(
                company_id=found.company_id,
                email=found.invitation.email,
                name=name,
                password_hash=password_hash,
                role=found.role,
                language=account.language,
                failed_logins=0,
                created_at=now,
                email_confirmed_at=now,
                password_changed_at=now,
                last_login_at=now,
            )
            db.add(user)
            await db.flush()
            await welcome(db, now, user)
            return await sessions.create_session(db, now, user, ip, user_agent)
    except IntegrityError as err:
        raise NotFound(INVALID_LINK) from err
