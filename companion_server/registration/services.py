"""Registering customers' boxes and linking them with Home Assistant (P1-P4).

The installer registers a box (PIN + customer e-mail); the customer gets a one-time code
(50 random bits, 7 days, single use, stored as an HMAC keyed with the portal's secret) and
enters it in Home Assistant, which calls ``POST /api/v1/link`` with the code and the PIN of
its own box. Both are compared in constant time; a code allows a few attempts with a wrong
PIN, and the endpoint is rate-limited per client address. A successful link returns an
installation token (256 bits, only its SHA-256 stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
import hashlib
import hmac
import logging
import re
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from companion_server.accounts.validation import normalize_email
from companion_server.errors import RateLimited, RuleViolation, ValidationFailed
from companion_server.i18n import LANGUAGES
from companion_server.mail.outbox import MailKind, enqueue
from companion_server.models import (
    Alert,
    AlertSetting,
    Company,
    Device,
    Installation,
    InstallationAssignment,
    InstallationLink,
    InstallationState,
    InterventionEntry,
    Monitoring,
    PortalFrame,
    Registration,
    RegistrationStatus,
    Role,
    User,
)

# Re-exported: the channel reads the PIN of a box the same way.
from companion_server.parsing import normalize_pin as normalize_pin
from companion_server.security import ratelimit
from companion_server.security.tokens import hash_token, new_token
from companion_server.settings import RateLimit
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

LOGGER = logging.getLogger(__name__)

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: 5 bits a character
CODE_LENGTH = 10  # 50 bits
CODE_DAYS = 7
MAX_CODE_ATTEMPTS = 5
LINK_PER_IP = RateLimit(20, 3600)
# Alert types Home Assistant reports (custom_components/somfy_pro/alerts.py).
ALERT_TYPES = (
    "intrusion",
    "tamper",
    "fire",
    "battery_low",
    "sensor_defect",
    "device_offline",
    "box_offline",
)


class LinkRefused(Exception):
    """Wrong, used or expired code, or a PIN that does not match (one answer for all)."""


@dataclass(frozen=True, slots=True)
class Registered:
    """A registration: the installation and the code mailed to the customer."""

    installation_id: int
    company_id: int
    code: str
    email: str
    actor_id: int  # who registered (or resent): may request monitoring


@dataclass(frozen=True, slots=True)
class Linked:
    """A successful link: what ``POST /api/v1/link`` answers."""

    installation_id: int
    token: str
    company_id: int
    company_name: str


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The installation behind a bearer token."""

    link_id: int
    installation_id: int
    company_id: int
    company_name: str
    box_pin: str


# -- formats ----------------------------------------------------------------------------


def new_code() -> str:
    """A fresh validation code, ``XXXXX-XXXXX`` (50 random bits)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{chars[:5]}-{chars[5:]}"


def normalize_code(raw: str) -> str:
    """The canonical characters of a code as typed (case, dashes, O/0 and I/L/1 forgiven)."""
    text = raw.upper().translate(str.maketrans("OIL", "011"))
    return "".join(ch for ch in text if ch in CODE_ALPHABET)[:64]


def code_hash(secret: str, raw: str) -> str:
    """The stored form of a code: HMAC-SHA256 keyed with the portal's secret."""
    return hmac.new(secret.encode(), normalize_code(raw).encode(), hashlib.sha256).hexdigest()


# -- registration (installers) ----------------------------------------------------------


async def _pin_linked_elsewhere(db: AsyncSession, pin: str, company_id: int) -> bool:
    row = await db.scalar(
        select(Installation.id)
        .where(
            Installation.box_pin == pin,
            Installation.company_id != company_id,
            Installation.status == RegistrationStatus.LINKED.value,
        )
        .limit(1)
    )
    return row is not None


async def _issue_code(
    db: AsyncSession,
    core: Core,
    installation: Installation,
    *,
    email: str,
    language: str,
    company: str,
    created_by_id: int | None,
) -> str:
    now = core.now()
    await db.execute(
        update(Registration)
        .where(
            Registration.installation_id == installation.id,
            Registration.used_at.is_(None),
            Registration.superseded_at.is_(None),
        )
        .values(superseded_at=now)
    )
    code = new_code()
    db.add(
        Registration(
            installation_id=installation.id,
            email=email,
            language=language,
            code_hash=code_hash(core.settings.secret_key, code),
            created_by_id=created_by_id,
            created_at=now,
            expires_at=now + timedelta(days=CODE_DAYS),
            failed_attempts=0,
        )
    )
    enqueue(
        db,
        now,
        MailKind.BOX_REGISTRATION,
        email,
        language,
        company=company,
        code=code,
        portal_url=core.settings.public_url,
        days=CODE_DAYS,
        pin=installation.box_pin or "",
    )
    return code


def _check_form(pin: str, email: str, language: str | None) -> tuple[str, str, str | None]:
    errors: dict[str, str] = {}
    pin_n = normalize_pin(pin)
    if pin_n is None:
        errors["pin"] = "Enter the box PIN in the form 1234-5678-9012."
    email_n = normalize_email(email)
    if email_n is None:
        errors["email"] = "Enter a valid e-mail address."
    if language and language not in LANGUAGES:
        errors["language"] = "Choose one of the offered languages."
    if errors:
        raise ValidationFailed(errors)
    assert pin_n is not None and email_n is not None
    return pin_n, email_n, language or None


async def register_box(
    core: Core,
    actor_id: int,
    *,
    pin: str,
    customer_email: str,
    language: str | None = None,
    name: str | None = None,
) -> Registered:
    """Register a customer's box for the actor's company and e-mail the code (P2).

    ``language``: of the e-mail (default: the installer's). Raises :class:`ValidationFailed`
    for a malformed PIN or address, :class:`RuleViolation` when the box is already linked to
    another company (without naming it) or already registered in this one.
    """
    pin_n, email_n, language = _check_form(pin, customer_email, language)
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        company = await db.get(Company, actor.company_id)
        assert company is not None
        if await _pin_linked_elsewhere(db, pin_n, actor.company_id):
            raise RuleViolation("This box is already linked to another installer company.")
        existing = await db.scalar(
            select(Installation.id).where(
                Installation.company_id == actor.company_id,
                Installation.box_pin == pin_n,
                Installation.status != RegistrationStatus.UNLINKED.value,
            )
        )
        if existing is not None:
            raise RuleViolation("This box is already registered in your company.")
        now = core.now()
        installation = Installation(
            company_id=actor.company_id,
            name=" ".join((name or "").split())[:200] or email_n,
            box_pin=pin_n,
            customer_email=email_n,
            status=RegistrationStatus.PENDING.value,
            created_by_id=actor.id,
            created_at=now,
        )
        db.add(installation)
        await db.flush()
        db.add(InstallationState(installation_id=installation.id, monitoring=Monitoring.NONE))
        if not actor.is_admin:
            db.add(
                InstallationAssignment(
                    installation_id=installation.id, user_id=actor.id, assigned_at=now
                )
            )
        # The registering installer hears about every kind of alert until told otherwise.
        db.add_all(
            AlertSetting(installation_id=installation.id, user_id=actor.id, alert_type=kind)
            for kind in ALERT_TYPES
        )
        log(db, installation, now, "registered", actor=actor, detail=email_n)
        code = await _issue_code(
            db,
            core,
            installation,
            email=email_n,
            language=language or actor.language,
            company=company.name,
            created_by_id=actor.id,
        )
        return Registered(installation.id, company.id, code, email_n, actor.id)


async def resend(
    core: Core,
    actor_id: int,
    installation_id: int,
    *,
    email: str | None = None,
    language: str | None = None,
) -> Registered:
    """Send a new code, optionally to a corrected address; earlier codes stop working (P4)."""
    from companion_server.installations.services import visible_installation

    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        if installation.status == RegistrationStatus.LINKED.value:
            raise RuleViolation("This box is already linked: there is nothing to validate.")
        previous = await db.scalar(
            select(Registration)
            .where(Registration.installation_id == installation.id)
            .order_by(Registration.id.desc())
            .limit(1)
        )
        raw_email = email or installation.customer_email or ""
        _, email_n, language = _check_form(
            installation.box_pin or "0000-0000-0000", raw_email, language
        )
        if installation.box_pin and await _pin_linked_elsewhere(
            db, installation.box_pin, actor.company_id
        ):
            raise RuleViolation("This box is already linked to another installer company.")
        company = await db.get(Company, actor.company_id)
        assert company is not None
        installation.customer_email = email_n
        installation.status = RegistrationStatus.PENDING.value
        now = core.now()
        log(db, installation, now, "code_resent", actor=actor, detail=email_n)
        code = await _issue_code(
            db,
            core,
            installation,
            email=email_n,
            language=language or (previous.language if previous else actor.language),
            company=company.name,
            created_by_id=actor.id,
        )
        return Registered(installation.id, company.id, code, email_n, actor.id)


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A registration request waiting for the customer (the "Registration requests" list)."""

    installation_id: int
    name: str
    pin: str
    email: str
    sent_at: datetime
    expires_at: datetime
    expired: bool


async def pending_requests(core: Core, actor_id: int) -> list[PendingRequest]:
    """The requests of the installations the actor may see, newest first (P1, P3)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        query = (
            select(Installation, Registration)
            .join(Registration, Registration.installation_id == Installation.id)
            .where(
                Installation.company_id == actor.company_id,
                Installation.status == RegistrationStatus.PENDING.value,
                Registration.superseded_at.is_(None),
                Registration.used_at.is_(None),
            )
            .order_by(Registration.id.desc())
        )
        if not actor.is_admin:
            query = query.join(
                InstallationAssignment,
                (InstallationAssignment.installation_id == Installation.id)
                & (InstallationAssignment.user_id == actor.id),
            )
        now = core.now()
        return [
            PendingRequest(
                installation_id=inst.id,
                name=inst.name,
                pin=inst.box_pin or "",
                email=reg.email,
                sent_at=reg.created_at,
                expires_at=reg.expires_at,
                expired=reg.expires_at <= now or reg.failed_attempts >= MAX_CODE_ATTEMPTS,
            )
            for inst, reg in (await db.execute(query)).tuples()
        ]


# -- the Home Assistant side ------------------------------------------------------------


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
            if match is not None and await _pin_linked_elsewhere(db, pin_n, match[1].company_id):
                match = None
            if match is None:
                for registration, _ in candidates:
                    registration.failed_attempts += 1
            else:
                result = await _complete_link(
                    db, core, match[0], match[1], instance_id=instance_id, name=name
                )
    if limited:
        raise RateLimited(LINK_PER_IP.window_seconds)
    if result is None:
        LOGGER.info("Link refused for %s", ip)
        raise LinkRefused()
    # A Home Assistant still connected with the previous link of this box goes away.
    await _after_link_change(core, result.installation_id, close=True)
    return result


async def _complete_link(
    db: AsyncSession,
    core: Core,
    registration: Registration,
    installation: Installation,
    *,
    instance_id: str,
    name: str,
) -> Linked:
    now = core.now()
    registration.used_at = now
    installation.status = RegistrationStatus.LINKED.value
    installation.customer_email = registration.email
    await db.execute(
        update(InstallationLink)
        .where(
            InstallationLink.installation_id == installation.id,
            InstallationLink.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_by="relinked")
    )
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
    return Linked(installation.id, token, company.id, company.name)


async def authenticate(core: Core, token: str) -> Authenticated | None:
    """The live link of a bearer token, or None (unknown, revoked or unlinked)."""
    if not token or len(token) > 200:
        return None
    async with core.tx() as db:
        row = (
            await db.execute(
                select(InstallationLink, Installation, Company)
                .join(Installation, Installation.id == InstallationLink.installation_id)
                .join(Company, Company.id == Installation.company_id)
                .where(
                    InstallationLink.token_hash == hash_token(token),
                    InstallationLink.revoked_at.is_(None),
                )
            )
        ).first()
        if row is None:
            return None
        link_row, installation, company = row._tuple()
        return Authenticated(
            link_row.id, installation.id, company.id, company.name, installation.box_pin or ""
        )


async def _end_link(
    db: AsyncSession, core: Core, installation: Installation, by: str, actor: User | None
) -> None:
    now = core.now()
    await db.execute(
        update(InstallationLink)
        .where(
            InstallationLink.installation_id == installation.id,
            InstallationLink.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_by=by)
    )
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
        state.monitoring = Monitoring.NONE.value
        state.monitoring_request_id = None
        state.monitoring_changed_at = now
        state.connected = False
        state.connected_changed_at = now
    log(db, installation, now, f"unlinked_by_{by}", actor=actor)


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
        await _end_link(db, core, installation, by, None)
    await _after_link_change(core, installation_id, close=True)


async def unlink_by_installer(core: Core, actor_id: int, installation_id: int) -> None:
    """An administrator ends the link from the portal; Home Assistant is told if connected."""
    from companion_server.installations.services import visible_installation

    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        installation = await visible_installation(db, actor, installation_id)
        if installation.status != RegistrationStatus.LINKED.value:
            raise RuleViolation("This box is not linked.")
        await _end_link(db, core, installation, "installer", actor)
    await _after_link_change(core, installation_id, close=True, tell_ha=True)


async def _after_link_change(
    core: Core, installation_id: int, *, close: bool = False, tell_ha: bool = False
) -> None:
    hub = core.hub
    if hub is None:
        return
    if close:
        await hub.close_installation(installation_id, "unlinked", tell_ha=tell_ha)
    await hub.changed(installation_id)


def log(
    db: AsyncSession,
    installation: Installation,
    now: datetime,
    kind: str,
    *,
    actor: User | None = None,
    detail: str | None = None,
    private: bool = False,
) -> None:
    """Add an entry to the installation's interventions log (in the caller's transaction)."""
    db.add(
        InterventionEntry(
            installation_id=installation.id,
            company_id=installation.company_id,
            at=now,
            kind=kind,
            actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else None,
            detail=detail,
            private=private,
        )
    )


# -- for tests and demos ----------------------------------------------------------------


async def seed_registration(
    core: Core,
    *,
    pin: str,
    customer_email: str = "home@example.com",
    company_name: str = "Test Installers",
    admin_email: str | None = None,
    language: str = "en",
) -> Registered:
    """Register ``pin`` for a company (created with a confirmed administrator if needed).

    For tests of Home Assistant and demos: returns the plain code that the e-mail carries.
    """
    admin_email = admin_email or f"admin@{re.sub(r'[^a-z0-9]+', '-', company_name.lower())}.test"
    async with core.tx() as db:
        admin = await db.scalar(select(User).where(User.email == admin_email))
        if admin is None:
            company = Company(name=company_name, created_at=core.now())
            db.add(company)
            await db.flush()
            admin = User(
                company_id=company.id,
                email=admin_email,
                name="Administrator",
                password_hash="!",  # no password login  # noqa: S106
                role=Role.ADMIN.value,
                language=language,
                failed_logins=0,
                created_at=core.now(),
                email_confirmed_at=core.now(),
            )
            db.add(admin)
            await db.flush()
        admin_id = admin.id
        existing = await db.scalar(
            select(Installation).where(
                Installation.company_id == admin.company_id,
                Installation.box_pin == normalize_pin(pin),
                Installation.status != RegistrationStatus.UNLINKED.value,
            )
        )
    if existing is not None:
        if existing.status == RegistrationStatus.LINKED.value:
            await unlink_installation(core, existing.id, by="installer")
        return await resend(core, admin_id, existing.id, email=customer_email, language=language)
    return await register_box(
        core, admin_id, pin=pin, customer_email=customer_email, language=language
    )
