"""Installations and their assignment to installers (O6, O7, O9).

Administrators see every installation of their company; installers only those assigned to
them; nobody sees another company's (:class:`NotFound`). Registering boxes, linking Home
Assistant and monitoring come with later features on top of these tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Select, bindparam, delete, select

from companion_server.errors import NotFound
from companion_server.models import Installation, InstallationAssignment, User
from companion_server.security.audit import Event, record
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import InstrumentedAttribute
    from sqlalchemy.sql.elements import BindParameter

    from companion_server.core import Core


@dataclass(frozen=True, slots=True)
class Person:
    """Who an installation is assigned to (what the pages show)."""

    id: int
    name: str
    email: str


def assigned_to[Q: Select[Any]](
    query: Q, installation_id: InstrumentedAttribute[int], user_id: int | BindParameter[int]
) -> Q:
    """``query`` kept to the rows whose ``installation_id`` is assigned to ``user_id``."""
    return query.join(
        InstallationAssignment,
        (InstallationAssignment.installation_id == installation_id)
        & (InstallationAssignment.user_id == user_id),
    )


def assigned_only[Q: Select[Any]](query: Q, actor: User) -> Q:
    """``query`` kept to the installations assigned to ``actor``, unless an administrator."""
    if actor.is_admin:
        return query
    return assigned_to(query, Installation.id, actor.id)


def _visible(actor: User) -> Select[tuple[Installation]]:
    return assigned_only(
        select(Installation).where(Installation.company_id == actor.company_id), actor
    )


# Built once: the lists ask it on every page.
_ASSIGNEES: Final = (
    select(InstallationAssignment.installation_id, User.id, User.name, User.email)
    .join(User, User.id == InstallationAssignment.user_id)
    .where(InstallationAssignment.installation_id.in_(bindparam("ids", expanding=True)))
    .order_by(User.name)
)


async def assignees_of(db: AsyncSession, installation_ids: list[int]) -> dict[int, list[Person]]:
    """The installers assigned to each of the installations (in the caller's transaction)."""
    result: dict[int, list[Person]] = {i: [] for i in installation_ids}
    if not installation_ids:
        return result
    rows = await db.execute(_ASSIGNEES, {"ids": installation_ids})
    for installation_id, user_id, name, email in rows.tuples():
        result[installation_id].append(Person(user_id, name, email))
    return result


async def _get(db: AsyncSession, actor: User, installation_id: int) -> Installation:
    installation = await db.scalar(_visible(actor).where(Installation.id == installation_id))
    if installation is None:
        raise NotFound()
    return installation


async def visible_installation(db: AsyncSession, actor: User, installation_id: int) -> Installation:
    """An installation the actor may see, or :class:`NotFound`.

    Administrators see their company's installations, installers those assigned to them.
    """
    return await _get(db, actor, installation_id)


async def get_installation(
    core: Core, actor_id: int, installation_id: int
) -> tuple[Installation, list[Person]]:
    """One installation the user may see, with its assigned installers."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await _get(db, actor, installation_id)
        assignees = await assignees_of(db, [installation.id])
        return installation, assignees[installation.id]


async def create_installation(
    core: Core,
    company_id: int,
    *,
    name: str,
    box_pin: str | None = None,
    customer_email: str | None = None,
    created_by_id: int | None = None,
) -> Installation:
    """Add an installation to a company (box registration builds on this)."""
    async with core.tx() as db:
        installation = Installation(
            company_id=company_id,
            name=name,
            box_pin=box_pin,
            customer_email=customer_email,
            status="pending",
            created_by_id=created_by_id,
            created_at=core.now(),
        )
        db.add(installation)
        await db.flush()
        return installation


async def assign(core: Core, actor_id: int, installation_id: int, user_id: int, ip: str) -> None:
    """Assign an installation to a collaborator of the same company (administrators)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        installation = await _get(db, actor, installation_id)
        member = await db.get(User, user_id)
        if member is None or member.company_id != actor.company_id:
            raise NotFound()
        exists = await db.get(InstallationAssignment, (installation.id, member.id))
        if exists is None:
            db.add(
                InstallationAssignment(
                    installation_id=installation.id, user_id=member.id, assigned_at=core.now()
                )
            )
            await record(
                db,
                core.now(),
                Event.INSTALLATION_ASSIGNED,
                actor=actor,
                target_email=member.email,
                ip=ip,
                detail=f"installation {installation.id}",
            )


async def unassign(core: Core, actor_id: int, installation_id: int, user_id: int, ip: str) -> None:
    """Take an installation away from a collaborator (administrators)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        installation = await _get(db, actor, installation_id)
        member = await db.get(User, user_id)
        if member is None or member.company_id != actor.company_id:
            raise NotFound()
        result = await db.execute(
            delete(InstallationAssignment).where(
                InstallationAssignment.installation_id == installation.id,
                InstallationAssignment.user_id == member.id,
            )
        )
        if getattr(result, "rowcount", 0):
            await record(
                db,
                core.now(),
                Event.INSTALLATION_UNASSIGNED,
                actor=actor,
                target_email=member.email,
                ip=ip,
                detail=f"installation {installation.id}",
            )
