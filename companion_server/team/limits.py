"""Daily limits on invitations: per company, and per company and invited address.

Counted for every invitation alike, whether the address has an account elsewhere or not,
so that the limits tell an administrator nothing about other companies' people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion_server.errors import ValidationFailed
from companion_server.security import ratelimit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core


async def check_invitation(db: AsyncSession, core: Core, company_id: int, email: str) -> None:
    """Count an invitation; :class:`ValidationFailed` (on ``email``) once over a limit."""
    limits = core.settings.rate_limits
    now = core.now()
    company = str(company_id)
    if not await ratelimit.allowed(
        db, now, "invite-company", company, limits.invitations_per_company
    ):
        raise ValidationFailed({"email": "Your company has sent too many invitations today."})
    if not await ratelimit.allowed(
        db, now, "invite-address", f"{company}\0{email}", limits.invitations_per_address
    ):
        raise ValidationFailed({"email": "This address has been invited too often today."})
