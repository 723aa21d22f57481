"""Company administration (O5-O7, O9): the team, deletion of members, administrators.

Only administrators act here (:class:`Forbidden` otherwise); anything outside the actor's
company is :class:`NotFound`, exactly like something that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import func, select

from companion_server.errors import Forbidden, NotFound, RuleViolation
from companion_server.keyset import after_key, decode_cursor, encode_cursor, split_page
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import Company, InstallationAssignment, Invitation, Role, User
from companion_server.security import sessions
from companion_server.security.audit import Event, record

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

MAX_ADMINS = 2


# Collaborators per page of the team page.
PAGE_SIZE: Final = 50


@dataclass(slots=True)
class Team:
    """What an administrator sees on the team page: one page of collaborators by name."""

    company: Company
    members: list[User]
    invitations: list[Invitation]
    assigned: dict[int, int]
    admins: int
    next_after: str | None


async def fresh_actor(
    db: AsyncSession, actor_id: int, *, admin: bool = True, lock_company: bool = False
) -> User:
    """Reload the acting user in this transaction (their role may have just changed).

    ``lock_company`` serialises changes of roles and members of one company (PostgreSQL
    row lock; SQLite runs one transaction at a time anyway): two administrators deleting or
    promoting at the same moment cannot leave a company with no or three administrators.
    """
    actor = await db.get(User, actor_id)
    if actor is not None and lock_company:
        await db.execute(select(Company.id).where(Company.id == actor.company_id).with_for_update())
        actor = await db.scalar(
            select(User).where(User.id == actor_id).execution_options(populate_existing=True)
        )
    if actor is None:
        raise NotFound()
    if admin and not actor.is_admin:
        raise Forbidden("Only administrators can do this.")
    return actor


async def _member(db: AsyncSession, actor: User, member_id: int) -> User:
    member = await db.get(User, member_id)
    if member is None or member.company_id != actor.company_id:
        raise NotFound()
    return member


async def admin_count(db: AsyncSession, company_id: int) -> int:
    """How many administrators a company has."""
    count = await db.scalar(
        select(func.count())
        .select_from(User)
        .where(User.company_id == company_id, User.role == Role.ADMIN)
    )
    return int(count or 0)


async def team(core: Core, actor_id: int, after: str | None = None) -> Team:
    """The administrator's company: collaborators (O6) by pages, pending invitations.

    Keyset pagination by (name, id) over the ``(company_id, name, id)`` index; the counts of
    assigned installations are read for the page's members only.
    """
    start = decode_cursor(after, str)
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        company = await db.get(Company, actor.company_id)
        assert company is not None
        query = select(User).where(User.company_id == actor.company_id)
        if start is not None:
            query = query.where(after_key(User.name, User.id, start))
        members, last = split_page(
            list(await db.scalars(query.order_by(User.name, User.id).limit(PAGE_SIZE + 1))),
            PAGE_SIZE,
        )
        invitations = list(
            await db.scalars(
                select(Invitation)
                .where(
                    Invitation.company_id == actor.company_id,
                    Invitation.accepted_at.is_(None),
                    Invitation.revoked_at.is_(None),
                    Invitation.expires_at > core.now(),
                )
                .order_by(Invitation.created_at.desc())
            )
        )
        counts = await db.execute(
            select(InstallationAssignment.user_id, func.count())
            .where(InstallationAssignment.user_id.in_([member.id for member in members]))
            .group_by(InstallationAssignment.user_id)
        )
        assigned = {user_id: int(count) for user_id, count in counts.tuples()}
        return Team(
            company=company,
            members=members,
            invitations=invitations,
            assigned=assigned,
            admins=await admin_count(db, actor.company_id),
            next_after=None if last is None else encode_cursor(last.name, last.id),
        )


async def delete_member(core: Core, actor_id: int, member_id: int, ip: str) -> None:
    """Delete a collaborator: every session ends at once and they are told by mail (O5)."""
    async with core.tx() as db:
        now = core.now()
        actor = await fresh_actor(db, actor_id, lock_company=True)
        member = await _member(db, actor, member_id)
        if member.id == actor.id:
            raise RuleViolation("You cannot delete yourself.")
        company = await db.get(Company, actor.company_id)
        assert company is not None
        await sessions.end_user_sessions(db, member.id)
        enqueue(
            db,
            now,
            MailKind.MEMBER_DELETED,
            member.email,
            member.language,
            name=member.name,
            company=company.name,
        )
        await record(
            db,
            now,
            Event.MEMBER_DELETED,
            actor=actor,
            target_email=member.email,
            ip=ip,
            detail=f"role {member.role}",
        )
        await db.delete(member)


async def promote(core: Core, actor_id: int, member_id: int, ip: str) -> None:
    """Make an installer the company's second administrator (at most two, O5)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, lock_company=True)
        member = await _member(db, actor, member_id)
        if member.is_admin:
            return
        if await admin_count(db, actor.company_id) >= MAX_ADMINS:
            raise RuleViolation("A company has at most two administrators.")
        await _set_role(db, core, actor, member, Role.ADMIN, ip)


async def step_down(core: Core, actor_id: int, successor_id: int | None, ip: str) -> None:
    """Stop being an administrator; the last one must name a successor first (O5)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, lock_company=True)
        successor = await _member(db, actor, successor_id) if successor_id else None
        if successor is not None and successor.id == actor.id:
            raise RuleViolation("Choose a colleague as your successor.")
        others = await admin_count(db, actor.company_id) - 1
        if successor is None or successor.is_admin:
            if others < 1:
                raise RuleViolation(
                    "Name a successor before you step down: a company always has an administrator."
                )
            await _set_role(db, core, actor, actor, Role.INSTALLER, ip)
        else:
            # The actor steps down first, so two administrators at most at any time.
            await _set_role(db, core, actor, actor, Role.INSTALLER, ip)
            await _set_role(db, core, actor, successor, Role.ADMIN, ip)


async def _set_role(
    db: AsyncSession, core: Core, actor: User, member: User, role: Role, ip: str
) -> None:
    member.role = role.value
    await db.flush()
    company = await db.get(Company, member.company_id)
    now = core.now()
    await record(
        db,
        now,
        Event.ROLE_CHANGED,
        actor=actor,
        target_email=member.email,
        ip=ip,
        detail=f"now {role.value}",
    )
    if member.id != actor.id:
        enqueue(
            db,
            now,
            MailKind.ROLE_CHANGED,
            member.email,
            member.language,
            name=member.name,
            company=company.name if company else "",
            admin=role == Role.ADMIN,
        )


async def members(core: Core, company_id: int) -> list[User]:
    """Every collaborator of a company, by name."""
    async with core.tx() as db:
        rows = await db.scalars(
            select(User).where(User.company_id == company_id).order_by(User.name, User.id)
        )
        return list(rows)
