"""An installation's records: its place, sub-installations and the devices on file (O12, O13).

Everything here acts on an installation the user may see (administrators: their company's;
installers: those assigned to them), so a record exists only under an existing installation
and another company's ids are :class:`NotFound`. The box's own products arrive from Home
Assistant (``devices``); a record row gives one its sub-installation and install date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from companion_server.errors import NotFound, ValidationFailed
from companion_server.i18n import N_
from companion_server.installations.services import visible_installation
from companion_server.models import (
    Device,
    DeviceRecord,
    Installation,
    InstallationPlace,
    InstallationState,
    SubInstallation,
)
from companion_server.parsing import has_control_characters, parse_id
from companion_server.records import ends
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.models import User

LATITUDE_ERROR = N_("Enter a latitude between -90 and 90.")
LONGITUDE_ERROR = N_("Enter a longitude between -180 and 180.")
MAX_SUBS = 50
MAX_HAND_DEVICES = 500


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """A device of the records tab: a box product or one added by hand."""

    record_id: int | None
    device_id: int | None
    label: str
    serial: str
    model: str
    sub_installation_id: int | None
    installed_on: date | None

    @property
    def from_box(self) -> bool:
        """Whether the product is on the box (reported by Home Assistant)."""
        return self.device_id is not None


@dataclass(frozen=True, slots=True)
class Records:
    """What the records tab shows."""

    place: InstallationPlace | None
    subs: list[SubInstallation]
    devices: list[DeviceLine]


async def visible(
    db: AsyncSession, actor_id: int, installation_id: int
) -> tuple[User, Installation]:
    """The acting user and an installation they may see (or :class:`NotFound`)."""
    actor = await fresh_actor(db, actor_id, admin=False)
    return actor, await visible_installation(db, actor, installation_id)


def clean_text(raw: str, field: str, errors: dict[str, str], *, limit: int, required: bool) -> str:
    """One line of text, blanks collapsed; an error for ``field`` when missing or too long."""
    value = " ".join(raw.split())
    if required and not value:
        errors[field] = "This field is required."
    elif len(value) > limit or has_control_characters(value):
        errors[field] = "This text is too long or holds characters that are not allowed."
    return value


def parse_coordinate(raw: str, field: str, limit: float, errors: dict[str, str]) -> float | None:
    """A latitude (limit 90) or longitude (limit 180) in decimal degrees; "" is none."""
    text = raw.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not -limit <= value <= limit:  # also refuses NaN and infinities
        errors[field] = LATITUDE_ERROR if limit == 90 else LONGITUDE_ERROR
        return None
    return round(value, 6)


def parse_day(raw: str, field: str, errors: dict[str, str]) -> date | None:
    """A day written YYYY-MM-DD; "" is none."""
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = "Enter a date as YYYY-MM-DD."
        return None


def check_place(values: dict[str, str]) -> tuple[str, str, float | None, float | None]:
    """Street, city, latitude, longitude from a form (:class:`ValidationFailed` if invalid)."""
    errors: dict[str, str] = {}
    street = clean_text(values.get("street", ""), "street", errors, limit=200, required=False)
    city = clean_text(values.get("city", ""), "city", errors, limit=100, required=False)
    latitude = parse_coordinate(values.get("latitude", ""), "latitude", 90, errors)
    longitude = parse_coordinate(values.get("longitude", ""), "longitude", 180, errors)
    if not errors and (latitude is None) != (longitude is None):
        errors["latitude" if latitude is None else "longitude"] = (
            "Enter both the latitude and the longitude, or neither."
        )
    if errors:
        raise ValidationFailed(errors)
    return street, city, latitude, longitude


async def records_of(core: Core, actor_id: int, installation_id: int) -> Records:
    """The place, sub-installations and devices of an installation the user may see.

    The box's products are listed only while Serv-e-go is granted (what the devices tab
    shows too); devices added by hand always.
    """
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        place = await db.get(InstallationPlace, installation.id)
        subs = list(
            await db.scalars(
                select(SubInstallation)
                .where(SubInstallation.installation_id == installation.id)
                .order_by(SubInstallation.name, SubInstallation.id)
            )
        )
        state = await db.get(InstallationState, installation.id)
        granted = state is not None and state.monitoring == "granted"
        records = list(
            await db.scalars(
                select(DeviceRecord)
                .where(DeviceRecord.installation_id == installation.id)
                .order_by(DeviceRecord.id)
            )
        )
        by_device = {r.device_id: r for r in records if r.device_id is not None}
        lines: list[DeviceLine] = []
        if granted:
            for device in await db.scalars(
                select(Device)
                .where(Device.installation_id == installation.id)
                .order_by(Device.label, Device.id)
            ):
                record = by_device.get(device.id)
                lines.append(
                    DeviceLine(
                        record.id if record else None,
                        device.id,
                        device.label,
                        device.url,
                        device.ui_class or "",
                        record.sub_installation_id if record else None,
                        record.installed_on if record else None,
                    )
                )
        lines += [
            DeviceLine(
                r.id,
                None,
                r.label or "",
                r.serial or "",
                r.model or "",
                r.sub_installation_id,
                r.installed_on,
            )
            for r in records
            if r.device_id is None
        ]
        return Records(place, subs, lines)


async def save_place(
    core: Core, actor_id: int, installation_id: int, values: dict[str, str]
) -> None:
    """Set the installation's address and coordinates."""
    street, city, latitude, longitude = check_place(values)
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        place = await db.get(InstallationPlace, installation.id)
        if place is None:
            place = InstallationPlace(installation_id=installation.id)
            db.add(place)
        place.street, place.city = street, city
        place.latitude, place.longitude = latitude, longitude


async def add_sub(core: Core, actor_id: int, installation_id: int, name: str) -> None:
    """Split the installation: a new sub-installation ("house", "garage")."""
    errors: dict[str, str] = {}
    name = clean_text(name, "name", errors, limit=100, required=True)
    if errors:
        raise ValidationFailed(errors)
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        existing = list(
            await db.scalars(
                select(SubInstallation.name).where(
                    SubInstallation.installation_id == installation.id
                )
            )
        )
        if name.casefold() in (n.casefold() for n in existing):
            raise ValidationFailed({"name": "This installation already has a part of that name."})
        if len(existing) >= MAX_SUBS:
            raise ValidationFailed({"name": "This installation has too many parts already."})
        db.add(SubInstallation(installation_id=installation.id, name=name, created_at=core.now()))


async def delete_sub(core: Core, actor_id: int, installation_id: int, sub_id: int) -> None:
    """Remove a sub-installation; its devices stay, no longer assigned to a part."""
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        sub = await db.get(SubInstallation, sub_id)
        if sub is None or sub.installation_id != installation.id:
            raise NotFound()
        for record in await db.scalars(
            select(DeviceRecord).where(DeviceRecord.sub_installation_id == sub.id)
        ):
            record.sub_installation_id = None
        await db.delete(sub)


async def _sub_of(db: AsyncSession, installation: Installation, raw: str) -> int | None:
    if not raw.strip():
        return None
    sub = await db.get(SubInstallation, parse_id(raw.strip()) or 0)
    if sub is None or sub.installation_id != installation.id:
        raise ValidationFailed({"sub_installation_id": "Choose one of this installation's parts."})
    return sub.id


def check_hand_device(values: dict[str, str]) -> tuple[str, str, str, date | None]:
    """Serial number, model, name and install date of a device added by hand."""
    errors: dict[str, str] = {}
    serial = clean_text(values.get("serial", ""), "serial", errors, limit=100, required=True)
    model = clean_text(values.get("model", ""), "model", errors, limit=100, required=True)
    label = clean_text(values.get("label", ""), "label", errors, limit=200, required=False)
    installed_on = parse_day(values.get("installed_on", ""), "installed_on", errors)
    if errors:
        raise ValidationFailed(errors)
    return serial, model, label, installed_on


async def add_hand_device(
    core: Core, actor_id: int, installation_id: int, values: dict[str, str]
) -> None:
    """Put on file a device that is not on the box (serial number and model required)."""
    serial, model, label, installed_on = check_hand_device(values)
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        sub_id = await _sub_of(db, installation, values.get("sub_installation_id", ""))
        count = await db.scalar(
            select(func.count())
            .select_from(DeviceRecord)
            .where(DeviceRecord.installation_id == installation.id)
        )
        if (count or 0) >= MAX_HAND_DEVICES:
            raise ValidationFailed({"serial": "This installation has too many devices on file."})
        record = DeviceRecord(
            installation_id=installation.id,
            serial=serial,
            model=model,
            label=label or None,
            installed_on=installed_on,
            sub_installation_id=sub_id,
            created_at=core.now(),
        )
        ends.stamp(
            record, installation.company_id, model, await ends.table_in(db, installation.company_id)
        )
        db.add(record)


async def _record(db: AsyncSession, installation: Installation, record_id: int) -> DeviceRecord:
    record = await db.get(DeviceRecord, record_id)
    if record is None or record.installation_id != installation.id:
        raise NotFound()
    return record


async def edit_hand_device(
    core: Core, actor_id: int, installation_id: int, record_id: int, values: dict[str, str]
) -> None:
    """Change a device added by hand."""
    serial, model, label, installed_on = check_hand_device(values)
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        record = await _record(db, installation, record_id)
        if record.device_id is not None:
            raise NotFound()
        record.sub_installation_id = await _sub_of(
            db, installation, values.get("sub_installation_id", "")
        )
        record.serial, record.model, record.label = serial, model, label or None
        record.installed_on = installed_on
        ends.stamp(
            record, installation.company_id, model, await ends.table_in(db, installation.company_id)
        )


async def delete_hand_device(
    core: Core, actor_id: int, installation_id: int, record_id: int
) -> None:
    """Remove a device added by hand (the box's products are removed by the box)."""
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        record = await _record(db, installation, record_id)
        if record.device_id is not None:
            raise NotFound()
        await db.delete(record)


async def place_box_device(
    core: Core, actor_id: int, installation_id: int, device_id: int, values: dict[str, str]
) -> None:
    """Give one of the box's products its sub-installation and install date."""
    errors: dict[str, str] = {}
    installed_on = parse_day(values.get("installed_on", ""), "installed_on", errors)
    if errors:
        raise ValidationFailed(errors)
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        device = await db.get(Device, device_id)
        if device is None or device.installation_id != installation.id:
            raise NotFound()
        sub_id = await _sub_of(db, installation, values.get("sub_installation_id", ""))
        record = await db.scalar(select(DeviceRecord).where(DeviceRecord.device_id == device.id))
        if record is None:
            record = DeviceRecord(
                installation_id=installation.id, device_id=device.id, created_at=core.now()
            )
            db.add(record)
        record.sub_installation_id = sub_id
        record.installed_on = installed_on
        ends.stamp(
            record,
            installation.company_id,
            device.ui_class or "",
            await ends.table_in(db, installation.company_id),
        )
