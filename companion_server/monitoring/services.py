"""Serv-e-go (monitoring consent, P5-P7) and what the installation pages show (P8-P12).

Only people who may see an installation (its company's administrators, installers assigned
to it) get anything; box data (devices, alerts) only while the customer grants monitoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from companion_server.errors import NotFound, RuleViolation, ValidationFailed
from companion_server.hub import protocol
from companion_server.installations.services import Person, assignees_of, visible_installation
from companion_server.journal import log
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
    RadioSample,
    Registration,
    RegistrationStatus,
    User,
)
from companion_server.monitoring.box_values import problems_first
from companion_server.registration.services import ALERT_TYPES
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core

ALERTS_SHOWN = 200
SAMPLES_SHOWN = 288
MAX_NOTE = 2000


@dataclass(slots=True)
class Overview:
    """The installation page: the box, the link, consent and who works on it."""

    installation: Installation
    state: InstallationState
    link: InstallationLink | None
    registration: Registration | None
    assignees: list[Person]
    company: str

    @property
    def granted(self) -> bool:
        """Whether the customer grants monitoring (the tabs are open)."""
        return self.state.monitoring == Monitoring.GRANTED.value

    @property
    def linked(self) -> bool:
        """Whether a Home Assistant is linked."""
        return self.installation.status == RegistrationStatus.LINKED.value


@dataclass(slots=True)
class DeviceView:
    """A product page: the device and its radio level history."""

    device: Device
    samples: list[RadioSample] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


async def _state(db: AsyncSession, installation_id: int) -> InstallationState:
    state = await db.get(InstallationState, installation_id)
    if state is None:
        state = InstallationState(installation_id=installation_id, monitoring="none")
        db.add(state)
        await db.flush()
    return state


async def overview(core: Core, actor_id: int, installation_id: int) -> Overview:
    """What the Installation tab and the tab bar need."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        state = await db.get(InstallationState, installation.id) or InstallationState(
            installation_id=installation.id, monitoring="none", connected=False
        )
        link = await db.scalar(
            select(InstallationLink)
            .where(
                InstallationLink.installation_id == installation.id,
                InstallationLink.revoked_at.is_(None),
            )
            .limit(1)
        )
        registration = await db.scalar(
            select(Registration)
            .where(Registration.installation_id == installation.id)
            .order_by(Registration.id.desc())
            .limit(1)
        )
        company = await db.get(Company, installation.company_id)
        assert company is not None
        assignees = (await assignees_of(db, [installation.id]))[installation.id]
        return Overview(installation, state, link, registration, assignees, company.name)


async def request_monitoring(core: Core, actor_id: int, installation_id: int) -> str:
    """Ask the customer to activate Serv-e-go ("Activate Serv-e-go for this user", P5).

    Queues a ``request_monitoring`` frame (kept until Home Assistant acknowledges it) and
    returns its ``request_id``. The installation must be linked and not already granted.
    """
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        if installation.status != RegistrationStatus.LINKED.value:
            raise RuleViolation(
                "The customer has not validated the registration in Home Assistant yet."
            )
        state = await _state(db, installation.id)
        if state.monitoring == Monitoring.GRANTED.value:
            raise RuleViolation("The customer already granted Serv-e-go.")
        company = await db.get(Company, installation.company_id)
        assert company is not None
        now = core.now()
        request_id = protocol.new_frame_id()
        # One request at a time: an older unanswered one is withdrawn.
        await db.execute(
            delete(PortalFrame).where(
                PortalFrame.installation_id == installation.id,
                PortalFrame.type == "request_monitoring",
                PortalFrame.acked_at.is_(None),
            )
        )
        payload = {
            "request_id": request_id,
            "company": company.name,
            "installer": actor.name,
            "at": now.isoformat(),
        }
        db.add(
            PortalFrame(
                installation_id=installation.id,
                frame_id=protocol.new_frame_id(),
                type="request_monitoring",
                payload=json.dumps(payload),
                created_at=now,
            )
        )
        state.monitoring = Monitoring.REQUESTED.value
        state.monitoring_request_id = request_id
        state.monitoring_changed_at = now
        log(db, installation, now, "monitoring_requested", actor=actor)
        if installation.customer_email:
            language = await db.scalar(
                select(Registration.language)
                .where(Registration.installation_id == installation.id)
                .order_by(Registration.id.desc())
                .limit(1)
            )
            enqueue(
                db,
                now,
                MailKind.MONITORING_REQUEST,
                installation.customer_email,
                language or actor.language,
                company=company.name,
                installer=actor.name,
            )
    hub = core.hub
    if hub is not None:
        await hub.frames_pending(installation_id)
        await hub.changed(installation_id)
    return request_id


async def granted_installation(db: AsyncSession, actor: User, installation_id: int) -> Installation:
    """An installation the actor may see whose customer grants Serv-e-go, or NotFound."""
    installation = await visible_installation(db, actor, installation_id)
    state = await db.get(InstallationState, installation.id)
    if state is None or state.monitoring != Monitoring.GRANTED.value:
        raise NotFound()
    return installation


async def devices(core: Core, actor_id: int, installation_id: int) -> list[Device]:
    """The paired products, those needing attention first (monitoring granted only)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await granted_installation(db, actor, installation_id)
        rows = await db.scalars(
            select(Device)
            .where(Device.installation_id == installation.id)
            .order_by(Device.label, Device.id)
        )
        return problems_first(list(rows))


async def device(core: Core, actor_id: int, installation_id: int, device_id: int) -> DeviceView:
    """One product with its radio history and alerts (monitoring granted only)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await granted_installation(db, actor, installation_id)
        found = await db.get(Device, device_id)
        if found is None or found.installation_id != installation.id:
            raise NotFound()
        samples = list(
            await db.scalars(
                select(RadioSample)
                .where(RadioSample.device_id == found.id)
                .order_by(RadioSample.at.desc(), RadioSample.id.desc())
                .limit(SAMPLES_SHOWN)
            )
        )
        alerts = list(
            await db.scalars(
                select(Alert)
                .where(Alert.installation_id == installation.id, Alert.device_url == found.url)
                .order_by(Alert.at.desc())
                .limit(20)
            )
        )
        return DeviceView(found, list(reversed(samples)), alerts)


async def alerts(
    core: Core, actor_id: int, installation_id: int
) -> tuple[list[Alert], dict[str, int]]:
    """The alerts, newest first, and the device ids by URL (monitoring granted only)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await granted_installation(db, actor, installation_id)
        rows = list(
            await db.scalars(
                select(Alert)
                .where(Alert.installation_id == installation.id)
                .order_by(Alert.at.desc(), Alert.id.desc())
                .limit(ALERTS_SHOWN)
            )
        )
        ids = {
            url: device_id
            for url, device_id in (
                await db.execute(
                    select(Device.url, Device.id).where(Device.installation_id == installation.id)
                )
            ).tuples()
        }
        return rows, ids


async def interventions(core: Core, actor_id: int, installation_id: int) -> list[InterventionEntry]:
    """The log; private notes only for the actor's company (monitoring granted only)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await granted_installation(db, actor, installation_id)
        rows = await db.scalars(
            select(InterventionEntry)
            .where(
                InterventionEntry.installation_id == installation.id,
                (InterventionEntry.private.is_(False))
                | (InterventionEntry.company_id == actor.company_id),
            )
            .order_by(InterventionEntry.at.desc(), InterventionEntry.id.desc())
            .limit(500)
        )
        return list(rows)


async def add_note(core: Core, actor_id: int, installation_id: int, text: str) -> None:
    """A private note in the interventions log (only the actor's company sees it)."""
    note = text.strip()
    if not note:
        raise ValidationFailed({"note": "Write the note first."})
    if len(note) > MAX_NOTE:
        raise ValidationFailed({"note": "The note is too long (2000 characters at most)."})
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await granted_installation(db, actor, installation_id)
        db.add(
            InterventionEntry(
                installation_id=installation.id,
                company_id=actor.company_id,
                at=core.now(),
                kind="note",
                actor_id=actor.id,
                actor_name=actor.name,
                detail=note,
                private=True,
            )
        )
    if core.hub is not None:
        await core.hub.changed(installation_id)


@dataclass(slots=True)
class AlertSettings:
    """Who is e-mailed for which alert type."""

    people: list[User]
    chosen: set[tuple[int, str]]
    editable: set[int]
    types: tuple[str, ...] = ALERT_TYPES


async def recipients(db: AsyncSession, installation: Installation) -> list[User]:
    """Confirmed people of the company who may see the installation, by name."""
    rows = await db.scalars(
        select(User)
        .outerjoin(
            InstallationAssignment,
            (InstallationAssignment.user_id == User.id)
            & (InstallationAssignment.installation_id == installation.id),
        )
        .where(
            User.company_id == installation.company_id,
            User.email_confirmed_at.is_not(None),
            (User.role == "admin") | InstallationAssignment.user_id.is_not(None),
        )
        .order_by(User.name, User.id)
    )
    return list(rows)


async def alert_settings(core: Core, actor_id: int, installation_id: int) -> AlertSettings:
    """The alert settings of an installation (P11)."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        people = await recipients(db, installation)
        chosen = {
            (user_id, kind)
            for user_id, kind in (
                await db.execute(
                    select(AlertSetting.user_id, AlertSetting.alert_type).where(
                        AlertSetting.installation_id == installation.id
                    )
                )
            ).tuples()
        }
        editable = {p.id for p in people} if actor.is_admin else {actor.id}
        return AlertSettings(people, chosen, editable)


async def save_alert_settings(
    core: Core, actor_id: int, installation_id: int, chosen: set[tuple[int, str]]
) -> None:
    """Save the settings: administrators for everyone, installers for themselves."""
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        installation = await visible_installation(db, actor, installation_id)
        people = {p.id for p in await recipients(db, installation)}
        editable = people if actor.is_admin else {actor.id} & people
        await db.execute(
            delete(AlertSetting).where(
                AlertSetting.installation_id == installation.id,
                AlertSetting.user_id.in_(editable),
            )
        )
        db.add_all(
            AlertSetting(installation_id=installation.id, user_id=user_id, alert_type=kind)
            for user_id, kind in sorted(chosen)
            if user_id in editable and kind in ALERT_TYPES
        )


def chart_points(samples: list[RadioSample], width: int = 600, height: int = 120) -> str:
    """SVG polyline points of a radio history (0-100 % from bottom to top)."""
    if not samples:
        return ""
    if len(samples) == 1:
        y = height - samples[0].rssi * height / 100
        return f"0,{y:.1f} {width},{y:.1f}"
    start = samples[0].at.timestamp()
    span = max(samples[-1].at.timestamp() - start, 1.0)
    return " ".join(
        f"{(s.at.timestamp() - start) * width / span:.1f},{height - s.rssi * height / 100:.1f}"
        for s in samples
    )


def since(now: datetime, then: datetime | None) -> int | None:
    """Whole minutes between ``then`` and ``now``."""
    if then is None:
        return None
    return max(0, int((now - then).total_seconds() // 60))
