"""Customer invitations: Home Assistant asks, the link's address gets a single-use link (O8).

Only the installation's own Home Assistant (its bearer token) can ask, and the invitation
always goes to the address the box was linked with: nobody chooses the recipient, and a
customer cannot invite anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from companion_server.accounts.invitations import (
    Claimed,
    NewAccount,
    is_usable,
    open_account,
    peek,
)
from companion_server.accounts.users import user_by_email
from companion_server.accounts.validation import (
    normalize_email,
)
from companion_server.customers.accounts import portal_company_id
from companion_server.errors import NotFound, RateLimited
from companion_server.i18n import LANGUAGES
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    Company,
    CustomerInstallation,
    CustomerInvitation,
    Installation,
    Registration,
    Role,
    User,
)
from companion_server.security import ratelimit
from companion_server.security.tokens import hash_token, new_token
from companion_server.settings import RateLimit

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

INVITATION_DAYS = 7
# A box owner asks once; a loop in Home Assistant must not flood their mailbox.
INVITATIONS_PER_INSTALLATION = RateLimit(3, 86400)


class InviteOutcome(StrEnum):
    """What an invitation request did (the API answers it to Home Assistant)."""

    SENT = "sent"  # a link to create the account
    ADDED = "added"  # the address already had a customer account: the box is added to it
    NO_ADDRESS = "no_address"  # the installation has no link address
    STAFF_ADDRESS = "staff_address"  # the address is an installer's login: one login per person


@dataclass(slots=True)
class CustomerInvitationView:
    """A usable invitation, as shown to the homeowner."""

    invitation: CustomerInvitation
    installation_name: str
    company_name: str


async def _link_language(db: AsyncSession, installation_id: int) -> str:
    """The language the box was registered in (the customer's, as the installer chose it)."""
    language = await db.scalar(
        select(Registration.language)
        .where(Registration.installation_id == installation_id, Registration.used_at.is_not(None))
        .order_by(Registration.used_at.desc())
        .limit(1)
    )
    return language if language in LANGUAGES else "en"


async def invite_customer(core: Core, installation_id: int) -> InviteOutcome:
    """E-mail the address of the installation's link an invitation to a customer account.

    A customer who already has an account gets the box added to it and a mail saying so.
    Raises :class:`~companion_server.errors.RateLimited` after a few requests a day.
    """
    async with core.tx() as db:
        # Counted in its own transaction: a refusal must not roll the count back.
        within = await ratelimit.allowed(
            db,
            core.now(),
            "customer_invitation",
            str(installation_id),
            INVITATIONS_PER_INSTALLATION,
        )
    if not within:
        raise RateLimited(INVITATIONS_PER_INSTALLATION.window_seconds)
    async with core.tx() as db:
        now = core.now()
        installation = await db.get(Installation, installation_id)
        if installation is None:
            raise NotFound()
        email = normalize_email(installation.customer_email or "")
        if email is None:
            return InviteOutcome.NO_ADDRESS
        company = await db.get(Company, installation.company_id)
        assert company is not None
        language = await _link_language(db, installation_id)
        existing = await user_by_email(db, email)
        if existing is not None and not existing.is_customer:
            return InviteOutcome.STAFF_ADDRESS
        if existing is not None:
            if await db.get(CustomerInstallation, (existing.id, installation_id)) is None:
                db.add(
                    CustomerInstallation(
                        customer_id=existing.id, installation_id=installation_id, created_at=now
                    )
                )
            enqueue(
                db,
                now,
                MailKind.CUSTOMER_BOX_ADDED,
                email,
                existing.language,
                installation=installation.name,
                company=company.name,
                link=f"{core.settings.public_url}/customer",
            )
            return InviteOutcome.ADDED
        await _revoke_pending(db, now, installation_id)
        token, token_hash = new_token()
        db.add(
            CustomerInvitation(
                installation_id=installation_id,
                email=email,
                language=language,
                token_hash=token_hash,
                created_at=now,
                expires_at=now + timedelta(days=INVITATION_DAYS),
            )
        )
        enqueue(
            db,
            now,
            MailKind.CUSTOMER_INVITATION,
            email,
            language,
            installation=installation.name,
            company=company.name,
            link=f"{core.settings.public_url}/customer-invitation/{token}",
            days=INVITATION_DAYS,
        )
        return InviteOutcome.SENT


async def _revoke_pending(db: AsyncSession, now: datetime, installation_id: int) -> None:
    """A new invitation replaces the pending one: only the newest link works."""
    await db.execute(
        update(CustomerInvitation)
        .where(
            CustomerInvitation.installation_id == installation_id,
            CustomerInvitation.accepted_at.is_(None),
            CustomerInvitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


async def _usable(db: AsyncSession, now: datetime, token: str) -> CustomerInvitationView | None:
    row = (
        await db.execute(
            select(CustomerInvitation, Installation, Company)
            .join(Installation, Installation.id == CustomerInvitation.installation_id)
            .join(Company, Company.id == Installation.company_id)
            .where(CustomerInvitation.token_hash == hash_token(token[:200]))
        )
    ).first()
    if row is None:
        return None
    invitation, installation, company = row._tuple()
    if not is_usable(invitation, now):
        return None
    return CustomerInvitationView(invitation, installation.name, company.name)


async def peek_customer_invitation(core: Core, token: str) -> CustomerInvitationView:
    """The invitation behind a link, if it can still be accepted."""
    return await peek(core, _usable, token)


async def accept_customer_invitation(
    core: Core,
    token: str,
    account: NewAccount,
    *,
    ip: str,
    user_agent: str,
) -> str:
    """Create the customer's account, owning the box; log in and return the session token."""
    view = await peek_customer_invitation(core, token)

    async def claim(db: AsyncSession, now: datetime) -> Claimed | None:
        found = await _usable(db, now, token)
        if found is None:
            return None
        return Claimed(found.invitation, await portal_company_id(db, now), Role.CUSTOMER.value)

    async def welcome(db: AsyncSession, now: datetime, user: User) -> None:
        db.add(
            CustomerInstallation(
                customer_id=user.id,
                installation_id=view.invitation.installation_id,
                created_at=now,
            )
        )

    return await open_account(
        core, view.invitation.email, account, claim, welcome, ip=ip, user_agent=user_agent
    )
