"""The installations list's rows: what each row shows, read in one statement for a page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import JSON, Row, Select, and_, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from companion_server.installations.services import Person
from companion_server.models import (
    Alert,
    Installation,
    InstallationAssignment,
    InstallationState,
    Monitoring,
    RegistrationStatus,
    RemoteWindow,
    User,
)
from companion_server.monitoring.labels import severity

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession


_GRANTED: Final = Monitoring.GRANTED.value
_NO_MONITORING: Final = Monitoring.NONE.value
_LINKED: Final = RegistrationStatus.LINKED.value


@dataclass(frozen=True, slots=True)
class Listed:
    """What a row shows of the installation itself."""

    id: int
    name: str
    status: str
    box_pin: str | None
    customer_email: str | None


@dataclass(slots=True)
class QueueRow:
    """One installation of the list and what needs attention."""

    installation: Listed
    monitoring: str
    connected: bool
    box_online: bool | None
    offline: bool
    alerts: list[tuple[str, int]]  # active alert types with their count, worst first
    window_until: datetime | None
    assignees: list[Person] = field(default_factory=list)

    @property
    def alert_count(self) -> int:
        """How many alerts are active."""
        return sum(count for _, count in self.alerts)


async def page_rows(db: AsyncSession, ids: list[int], now: datetime) -> list[QueueRow]:
    """The rows of these installations, in this order."""
    if not ids:
        return []
    dialect = db.get_bind().dialect.name
    rows = {row.id: row for row in await db.execute(_by_ids(dialect), {"ids": ids, "now": now})}
    return [_row(rows[i], dialect) for i in ids]


@cache
def _by_ids(dialect: str) -> Select[Any]:
    """:func:`_columns` of the installations ``ids``, built once."""
    return _columns(dialect).where(Installation.id.in_(bindparam("ids", expanding=True)))


def rows_of_keys(keys: Select[Any], sort: str, dialect: str) -> Select[Any]:
    """What the rows of a page show, with its keys (``id``, ``name``, ``attention``) in order.

    The page's keys and its rows in one statement: a trip to the database fewer, which on
    SQLite is a hand-over to aiosqlite's thread and back. :func:`queue_row` reads a row.
    """
    found = keys.subquery()
    order = {
        "problems": (found.c.attention.desc(), found.c.id.desc()),
        "name": (found.c.name, found.c.id),
        "newest": (found.c.id.desc(),),
    }[sort]
    return (
        _columns(dialect)
        .add_columns(found.c.attention)
        .join(found, found.c.id == Installation.id)
        .order_by(*order)
    )


def queue_row(row: Row[Any], dialect: str) -> QueueRow:
    """A row of a :func:`rows_of_keys` statement (the keys' ``attention`` last)."""
    return _row(row[:-1], dialect)


@cache
def _columns(dialect: str) -> Select[Any]:
    """What a page's rows show, built once (parameter ``now``; the rows: the caller's).

    Each installation by id with its state, its open window, its active alerts' types and
    its assigned installers (JSON arrays: types and names are free text, so no separator is
    safe). As four statements (rows, alerts, windows, assignees), their own cost was three
    times the database's answers; built around each page's keys, building and keying it
    cost as much.
    """
    postgresql = dialect == "postgresql"
    aggregate = func.json_agg if postgresql else func.json_group_array
    alerts = (
        select(aggregate(Alert.type, type_=JSON))
        .where(Alert.active.is_(True), Alert.installation_id == Installation.id)
        .scalar_subquery()
    )
    # By name: PostgreSQL in its collation, as an ORDER BY would; SQLite (no ORDER BY in an
    # aggregate before 3.44) in any order, sorted by :func:`_row` in SQLite's own.
    person = (func.json_build_array if postgresql else func.json_array)(
        User.id, User.name, User.email
    )
    assignees = (
        select(
            func.json_agg(aggregate_order_by(person, User.name), type_=JSON)  # type: ignore[no-untyped-call]
            if postgresql
            else func.json_group_array(person, type_=JSON)
        )
        .select_from(InstallationAssignment)
        .join(User, User.id == InstallationAssignment.user_id)
        .where(InstallationAssignment.installation_id == Installation.id)
        .scalar_subquery()
    )
    # Of the installation's windows (its index), the open ones: "state and end" in the WHERE
    # made SQLite read every open window of every company, by the (state, until) index, for
    # each row.
    now = bindparam("now", type_=RemoteWindow.until.type)
    open_until = case(
        (and_(RemoteWindow.state == "granted", RemoteWindow.until > now), RemoteWindow.until)
    )
    window = (
        select(func.max(open_until))
        .where(RemoteWindow.installation_id == Installation.id)
        .scalar_subquery()
    )
    return select(
        Installation.id,
        Installation.name,
        Installation.status,
        Installation.box_pin,
        Installation.customer_email,
        InstallationState.installation_id.label("state_of"),
        InstallationState.monitoring,
        InstallationState.connected,
        InstallationState.box_online,
        window.label("window_until"),
        alerts.label("alert_types"),
        assignees.label("assignees"),
    ).outerjoin(InstallationState, InstallationState.installation_id == Installation.id)


def _row(row: Any, dialect: str) -> QueueRow:
    """A row of the page from its statement's row (see :func:`_columns`)."""
    # Unpacked by position: by name, each of a page's 600 values cost a lookup.
    (
        installation_id,
        name,
        status,
        box_pin,
        customer_email,
        state_of,
        monitoring,
        connected,
        box_online,
        window_until,
        alert_types,
        people,
    ) = row
    assignees = [Person(*person) for person in people] if people else []
    if len(assignees) > 1 and dialect != "postgresql":
        # SQLite's order of text (its BINARY collation: UTF-8 bytes, i.e. code points).
        assignees.sort(key=lambda person: person.name)
    has_state = state_of is not None
    granted = has_state and monitoring == _GRANTED
    connected = bool(has_state and connected)
    box_online = box_online if granted else None
    alerts: list[tuple[str, int]] = []
    if granted and alert_types:
        alerts = sorted(Counter(alert_types).items(), key=lambda a: (severity(a[0]), a[0]))
    return QueueRow(
        installation=Listed(installation_id, name, status, box_pin, customer_email),
        monitoring=monitoring if has_state else _NO_MONITORING,
        connected=connected,
        box_online=box_online,
        offline=status == _LINKED and (not connected or box_online is False),
        alerts=alerts,
        window_until=window_until,
        assignees=assignees,
    )
