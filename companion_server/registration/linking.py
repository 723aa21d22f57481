"""Linking a registered box with its Home Assistant, and ending the link (P1-P4).

The customer enters the code in Home Assistant, which calls ``POST /api/v1/link`` with the
code and the PIN of its own box. Both are compared in constant time; a code allows a few
attempts with a wrong PIN, and the endpoint is rate-limited per client address. A
successful link returns an installation token (256 bits, only its SHA-256 stored).
"""

from __future__ import annotations

from dataclasses import dataclass
import hmac
import logging
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from companion_server.errors import RateLimited, RuleViolation
from companion_server.hub.auth import authenticate
from companion_server.installations.services import visible_installation
from companion_server.journal import log
from companion_server.models import (
    Alert,
    Company,
    Device,
    Installation,
    InstallationLink,
    InstallationState,
    Monitoring,
    PortalFrame,
    Registration,
    RegistrationStatus,
)
from companion_server.parsing import normalize_pin
from companion_server.registration.codes import (
    MAX_CODE_ATTEMPTS,
    code_hash,
    pin_linked_elsewhere,
)
from companion_server.security import ratelimit
from companion_server.security.tokens import new_token
from companion_server.settings import RateLimit
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.models import User

LOGGER = logging.getLogger(__name__)
LINK_PER_IP = RateLimit(20, 3600)


class LinkRefused(Exception):
    """Wrong, used or expired code, or a PIN that does not match (one answer for all)."""


@dataclass(frozen=True, slots=True)
class Linked:
    """A successful link: what ``POST /api/v1/link`` answers."""

    installation_id: int
    token: str
    company_id: int
    company_name: str


async def link(core: Core, *, code: str, pin: str, instance_id: str, name: str, ip: str) -> Linked:
    """Exchange a validation code and the box PIN for an installation token.

    Raises :class:`LinkRefused` (one answer for every failure) or :class:`RateLimited`.
    """
    now = core.now()
    secret = core.settings.secret_key
    pin_n = normalize_pin(pin) or ""
    digest = code_hash(secret, code)
    limited = False
    result: Linked | None = None
    async with core.tx() as db:
        if not await ratelimit.allowed(db, now, "link", ip, LINK_PER_IP):
            limited = True
        else:
            # The request of this code, if any. A wrong attempt counts against that code
            # only: guesses of codes for a known PIN must not burn the customer's real code
            # (those are bounded per client address above).
            rows = (
                await db.execute(
                    select(Registration, Installation)
                    .join(Installation, Installation.id == Registration.installation_id)
                    .where(
                        Registration.code_hash == digest,
                        Registration.used_at.is_(None),
                        Registration.superseded_at.is_(None),
                    )
                    .with_for_update()
                )
            ).tuples()
            match: tuple[Registration, Installation] | None = None
            candidates = list(rows)
            for registration, installation in candidates:
                same_code = hmac.compare_digest(registration.code_hash, digest)
                same_pin = hmac.compare_digest(
                    (installation.box_pin or "").encode(), pin_n.encode()
                )
                usable = (
                    registration.expires_at > now
                    and registration.failed_attempts < MAX_CODE_ATTEMPTS
                    and installation.status == RegistrationStatus.PENDING.value
                )
                if same_code & same_pin & usable:
                    match = (registration, installation)
            if match is not None and await pin_linked_elsewhere(db, pin_n, match[1].company_id):
                match = None
            if match is None:
                for registration, _ in candidates:
                    registration.failed_attempts += 1
            else:
                result, ended = await _complete_link(
                    db, core, match[0], match[1], instance_id=instance_id, name=name
                )
    if limited:
        raise RateLimited(LINK_PER_IP.window_seconds)
    if result is None:
        LOGGER.info("Link refused for %s", ip)
        raise LinkRefused()
    # A Home Assistant still connected with the previous link of this box goes away.
    await _after_link_change(core, result.installation_id, ended)
    return result


async def _complete_link(
    db: AsyncSession,
    core: Core,
    registration: Registration,
    installation: Installation,
    *,
    instance_id: str,
    name: str,
) -> tuple[Linked, list[int]]:
    """Link the box; also the ids of the links this one replaces."""
    now = core.now()
    registration.used_at = now
    installation.status = RegistrationStatus.LINKED.value
    installation.customer_email = registration.email
    ended = await _end_links(db, installation, now, "relinked")
    # Requests of the old link are not for this Home Assistant.
    await db.execute(
        update(PortalFrame)
        .where(PortalFrame.installation_id == installation.id, PortalFrame.acked_at.is_(None))
        .values(acked_at=now)
    )
    token, token_hash = new_token()
    db.add(
        InstallationLink(
            installation_id=installation.id,
            token_hash=token_hash,
            instance_id=instance_id[:100],
            ha_name=name[:200],
            created_at=now,
        )
    )
    state = await db.get(InstallationState, installation.id)
    if state is None:
        state = InstallationState(installation_id=installation.id)
        db.add(state)
    state.monitoring = Monitoring.NONE.value
    state.monitoring_request_id = None
    state.monitoring_changed_at = now
    log(db, installation, now, "linked", detail=name[:200] or None)
    company = await db.get(Company, installation.company_id)
    assert company is not None
    return Linked(installation.id, token, company.id, company.name), ended


async def _end_links(
    db: AsyncSession, installation: Installation, now: datetime, by: str
) -> list[int]:
    """Revoke the installation's live links; their ids."""
    ended = await db.scalars(
        update(InstallationLink)
        .where(
            InstallationLink.installation_id == installation.id,
            InstallationLink.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_by=by)
        .returning(InstallationLink.id)
    )
    return list(ended)


async def end_link(
    db: AsyncSession, core: Core, installation: Installation, by: str, actor: User | None
) -> list[int]:
    """End the installation's link in the caller's transaction (``by``: who ended it).

    The token stops working, frames not yet delivered are dropped and the box's data goes;
    the caller closes the live connection of the returned links once the transaction is
    committed.
    """
    now = core.now()
    ended = await _end_links(db, installation, now, by)
    await db.execute(
        update(PortalFrame)
        .where(PortalFrame.installation_id == installation.id, PortalFrame.acked_at.is_(None))
        .values(acked_at=now)
    )
    installation.status = RegistrationStatus.UNLINKED.value
    # Both sides forget the link: the box's data goes (radio samples with their devices);
    # the intervention log, a record of the work done, stays.
    for model in (Alert, Device):
        await db.execute(delete(model).where(model.installation_id == installation.id))
    state = await db.get(InstallationState, installation.id)
    if state is not None:
        state.box_online = state.box_activated = state.box_up_to_date = None
        state.box_online_since = None
        state.firmware = None
        state.snapshot_digest = None
        state.monitoring = Monitoring.NONE.value
        state.monitoring_request_id = None
        state.monitoring_changed_at = now
        state.connected = False
        state.connected_changed_at = now
    log(db, installation, now, f"unlinked_by_{by}", actor=actor)
    return ended


async def unlink_by_token(core: Core, token: str) -> int | None:
    """Home Assistant ends the link (``POST /api/v1/unlink`` or an ``unlinked`` frame)."""
    auth = await authenticate(core, token)
    if auth is None:
        return None
    await unlink_installation(core, auth.installation_id, by="home_assistant")
    return auth.installation_id


async def unlink_installation(core: Core, installation_id: int, *, by: str) -> None:
    """End the live link of an installation (the token stops working at once)."""
    async with core.tx() as db:
        installation = await db.get(Installation, installation_id)
        if installation is None:
            return
        ended = await end_link(db, core, installation, by, None)
    await _after_link_change(core, installation_id, ended)


async def unlink_by_installer(core: Core, actor_id: int, installation_id: int) -> None:
    """An administrator ends the link from the portal; Home Assistant is told if connected."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        installation = await visible_installation(db, actor, installation_id)
        if installation.status != RegistrationStatus.LINKED.value:
            raise RuleViolation("This box is not linked.")
        ended = await end_link(db, core, installation, "installer", actor)
    await _after_link_change(core, installation_id, ended, tell_ha=True)


async def _after_link_change(
    core: Core, installation_id: int, ended: list[int], *, tell_ha: bool = False
) -> None:
    hub = core.hub
    if hub is None:
        return
    if ended:
        await hub.close_links(installation_id, ended, "unlinked", tell_ha=tell_ha)
    await hub.changed(installation_id)
