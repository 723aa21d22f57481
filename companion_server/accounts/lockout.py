"""Lockout and throttling that strangers cannot turn against an account's owner.

Three wrong passwords in a row lock an account (O2), but whoever types them, the owner
keeps the sessions already open and can always get a working reset link: reset mails are
counted per requesting IP and address, so requests from elsewhere do not spend the owner's
budget. Unknown addresses keep their failures exactly like accounts (no window), so that
no answer, now or later, tells whether an address has an account.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy.dialects import postgresql, sqlite

from companion_server.models import UnknownAddressFailures
from companion_server.security import ratelimit
from companion_server.security.tokens import hash_token

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


async def unknown_address_failed(db: AsyncSession, now: datetime, email: str) -> int:
    """Count a failed login with an address that has no account; return its failures."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(UnknownAddressFailures).values(
        address_hash=hashlib.sha256(email.encode()).hexdigest(), failures=1, last_failed_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[UnknownAddressFailures.address_hash],
        set_={"failures": UnknownAddressFailures.failures + 1, "last_failed_at": now},
    ).returning(UnknownAddressFailures.failures)
    failures: int = (await db.execute(stmt)).scalar_one()
    return failures


async def reset_mail_allowed(db: AsyncSession, core: Core, ip: str, email: str) -> bool:
    """Count a reset mail asked from ``ip`` for ``email`` (known or not); whether to send it."""
    rule = core.settings.rate_limits.reset_mail_per_requester
    return await ratelimit.allowed(db, core.now(), "reset-mail", f"{ip}\0{email}", rule)


async def check_password_attempt(core: Core, user_id: int, session_token: str) -> None:
    """Count a check of the current password; :class:`RateLimited` once over a limit.

    Per session and per account, so that a stolen session cannot guess the password at
    length (and several stolen sessions not much longer); counted before the check.
    """
    limits = core.settings.rate_limits
    async with core.tx() as db:
        now = core.now()
        await ratelimit.check(
            db,
            now,
            "password-session",
            hash_token(session_token),
            limits.password_check_per_session,
        )
        await ratelimit.check(
            db, now, "password-account", str(user_id), limits.password_check_per_account
        )
