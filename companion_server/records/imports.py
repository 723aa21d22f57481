"""Import installations from a monitoring portal's export (O14), CSV or JSON.

One installation per row (CSV, header row first) or per object (JSON: a list, or
``{"installations": [...]}``), with the fields of :data:`COLUMNS`. In CSV, sub-installations
are separated by ``|`` and devices too, each device ``serial;model;installed_on;part``.
Rows already imported (same ``reference``, or without one the same name, street and city)
are left as they are: importing the same file twice changes nothing. Every refused row is
reported with why; the accepted ones are imported.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
import io
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from companion_server.accounts.validation import normalize_email
from companion_server.errors import ValidationFailed
from companion_server.i18n import N_
from companion_server.models import DeviceRecord, Installation, InstallationPlace, SubInstallation
from companion_server.records import ends
from companion_server.records.services import check_hand_device, check_place, clean_text
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.models import User

COLUMNS = (
    "reference",
    "name",
    "customer_email",
    "street",
    "city",
    "latitude",
    "longitude",
    "sub_installations",
    "devices",
)
MAX_ROWS = 1000
MAX_PARTS = 50
MAX_DEVICES = 200
FILE_ERROR = N_(
    "The file is neither a CSV file with a header row nor a JSON list of installations."
)


@dataclass(frozen=True, slots=True)
class Refused:
    """A row that was not imported, and why (a message id)."""

    row: int
    name: str
    reason: str


@dataclass(slots=True)
class Report:
    """What an import did."""

    imported: int = 0
    unchanged: int = 0
    refused: list[Refused] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Row:
    """One installation to import, checked."""

    reference: str
    name: str
    email: str | None
    place: tuple[str, str, float | None, float | None]
    parts: list[str]
    devices: list[tuple[tuple[str, str, str, Any], str]]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def parse_file(content: bytes) -> list[dict[str, Any]]:
    """The rows of a CSV or JSON export (:class:`ValidationFailed` if it is neither)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValidationFailed({"file": "The file must be written in UTF-8."}) from err
    stripped = text.lstrip()
    rows: list[Any]
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError) as err:
            raise ValidationFailed({"file": FILE_ERROR}) from err
        found = data.get("installations") if isinstance(data, dict) else data
        if not isinstance(found, list):
            raise ValidationFailed({"file": FILE_ERROR})
        rows = found
    else:
        try:
            reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
            if not reader.fieldnames or "name" not in reader.fieldnames:
                raise ValidationFailed({"file": FILE_ERROR})
            rows = list(reader)
        except csv.Error as err:
            raise ValidationFailed({"file": FILE_ERROR}) from err
    if len(rows) > MAX_ROWS:
        raise ValidationFailed({"file": "The file has too many rows (1000 at most)."})
    return rows


def _split(value: object, sep: str) -> list[Any]:
    if isinstance(value, list):
        return value
    return [part for part in _text(value).split(sep) if part.strip()]


def _device(raw: object) -> dict[str, str]:
    if isinstance(raw, dict):
        return {k: _text(v) for k, v in raw.items()}
    serial, model, installed_on, part = ([*_text(raw).split(";"), "", "", ""])[:4]
    return {"serial": serial, "model": model, "installed_on": installed_on, "part": part}


def check_row(raw: object) -> Row:
    """A row's installation, or :class:`ValidationFailed` with the first reason."""
    if not isinstance(raw, dict):
        raise ValidationFailed({"row": "The row is not an installation with the expected fields."})
    errors: dict[str, str] = {}
    name = clean_text(_text(raw.get("name")), "name", errors, limit=200, required=True)
    reference = clean_text(
        _text(raw.get("reference")), "reference", errors, limit=100, required=False
    )
    email_text = _text(raw.get("customer_email")).strip()
    email = normalize_email(email_text) if email_text else None
    if email_text and email is None:
        errors["customer_email"] = "Enter a valid e-mail address."
    if errors:
        raise ValidationFailed(errors)
    place = check_place({k: _text(raw.get(k)) for k in ("street", "city", "latitude", "longitude")})
    parts: list[str] = []
    for part in _split(raw.get("sub_installations"), "|"):
        value = clean_text(_text(part), "part", errors, limit=100, required=True)
        if errors:
            raise ValidationFailed(errors)
        if value.casefold() not in (p.casefold() for p in parts):
            parts.append(value)
    raw_devices = _split(raw.get("devices"), "|")
    if len(parts) > MAX_PARTS or len(raw_devices) > MAX_DEVICES:
        raise ValidationFailed({"row": "The row has too many parts or devices."})
    devices = []
    for item in raw_devices:
        values = _device(item)
        device = check_hand_device(values)
        part = " ".join(values.get("part", "").split())
        if part and part.casefold() not in (p.casefold() for p in parts):
            raise ValidationFailed({"part": "A device names a part that the row does not list."})
        devices.append((device, part))
    return Row(reference, name, email, place, parts, devices)


async def _exists(db: AsyncSession, actor: User, row: Row) -> bool:
    query = (
        select(Installation.id)
        .join(InstallationPlace, InstallationPlace.installation_id == Installation.id)
        .where(Installation.company_id == actor.company_id)
    )
    if row.reference:
        query = query.where(InstallationPlace.external_ref == row.reference)
    else:
        street, city = row.place[0], row.place[1]
        query = query.where(
            Installation.name == row.name,
            InstallationPlace.street == street,
            InstallationPlace.city == city,
        )
    return await db.scalar(query.limit(1)) is not None


async def _add(db: AsyncSession, core: Core, actor: User, row: Row, table: dict[str, int]) -> None:
    now = core.now()
    installation = Installation(
        company_id=actor.company_id,
        name=row.name,
        customer_email=row.email,
        status="pending",
        created_by_id=actor.id,
        created_at=now,
    )
    db.add(installation)
    await db.flush()
    street, city, latitude, longitude = row.place
    db.add(
        InstallationPlace(
            installation_id=installation.id,
            street=street,
            city=city,
            latitude=latitude,
            longitude=longitude,
            external_ref=row.reference or None,
        )
    )
    subs = {}
    for part in row.parts:
        sub = SubInstallation(installation_id=installation.id, name=part, created_at=now)
        db.add(sub)
        subs[part.casefold()] = sub
    await db.flush()
    for (serial, model, label, installed_on), part in row.devices:
        record = DeviceRecord(
            installation_id=installation.id,
            serial=serial,
            model=model,
            label=label or None,
            installed_on=installed_on,
            sub_installation_id=subs[part.casefold()].id if part else None,
            created_at=now,
        )
        ends.stamp(record, actor.company_id, model, table)
        db.add(record)


async def import_file(core: Core, actor_id: int, content: bytes) -> Report:
    """Import the installations of an export (administrators); report what happened."""
    rows = parse_file(content)
    report = Report()
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id)
        table = await ends.table_in(db, actor.company_id)
        for number, raw in enumerate(rows, start=1):
            name = _text(raw.get("name"))[:200] if isinstance(raw, dict) else ""
            try:
                row = check_row(raw)
            except ValidationFailed as err:
                report.refused.append(Refused(number, name, next(iter(err.errors.values()))))
                continue
            if await _exists(db, actor, row):
                report.unchanged += 1
                continue
            await _add(db, core, actor, row, table)
            await db.flush()
            report.imported += 1
    return report
