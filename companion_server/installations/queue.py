"""The installations list as a work queue: state, alerts, Serv-e-go and windows per row.

Filters and the "problems first" order are computed in SQL, one page at a time with keyset
pagination (the last row's sort key, never OFFSET): a page costs the same number of
queries whatever the page and however many installations the company has, and rows do not
shift between pages when installations are added meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Select, and_, case, exists, func, or_, select

from companion_server.installations.services import Person, assigned_only, assignees_of
from companion_server.keyset import (
    choice_param,
    decode_cursor,
    encode_cursor,
    search_param,
    split_page,
)
from companion_server.models import (
    Alert,
    Installation,
    InstallationState,
    Monitoring,
    RegistrationStatus,
    RemoteWindow,
)
from companion_server.monitoring.labels import severity
from companion_server.team.services import fresh_actor

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from companion_server.core import Core
    from companion_server.models import User

PAGE_SIZE: Final = 50
MAX_SEARCH: Final = 200
# "problems": anything needing attention; then one kind of problem each.
FILTERS: Final = ("all", "problems", "offline", "alerts", "pending", "window")
SORTS: Final = ("problems", "name", "newest")
# How much each problem weighs in the "problems first" order.
ALERT_WEIGHT, OFFLINE_WEIGHT, PENDING_WEIGHT = 4, 2, 1


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """What the installer asked for: search text, filter, order and where the page starts."""

    search: str = ""
    status: str = "all"
    sort: str = "problems"
    after: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QueueQuery:
        """From query parameters; unknown values fall back to the defaults."""
        return cls(
            search=search_param(params, MAX_SEARCH),
            status=choice_param(params, "status", FILTERS, "all"),
            sort=choice_param(params, "sort", SORTS, "problems"),
            after=params.get("after") or None,
        )


@dataclass(slots=True)
class QueueRow:
    """One installation of the list and what needs attention."""

    installation: Installation
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


@dataclass(slots=True)
class QueuePage:
    """One page of the work queue."""

    rows: list[QueueRow]
    query: QueueQuery
    counts: dict[str, int]  # installations per filter (for the search given)
    next_after: str | None

    @property
    def total(self) -> int:
        """How many installations the current filter and search match."""
        return self.counts[self.query.status]


def _decode(cursor: str | None, sort: str) -> tuple[Any, int] | None:
    """The sort key and id a page starts after; None (the first page) when unreadable."""
    if sort == "name":
        return decode_cursor(cursor, str)
    return decode_cursor(cursor, int)


def _rows(actor: User, now: datetime) -> Select[Any]:
    """Every installation the actor sees with its sort keys and problem flags."""
    granted = InstallationState.monitoring == Monitoring.GRANTED.value
    active_alerts = (
        select(func.count())
        .where(Alert.active.is_(True), Alert.installation_id == Installation.id)
        .correlate(Installation)
        .scalar_subquery()
    )
    linked = Installation.status == RegistrationStatus.LINKED.value
    offline = and_(
        linked,
        or_(
            func.coalesce(InstallationState.connected, False).is_(False),
            and_(granted, InstallationState.box_online.is_(False)),
        ),
    )
    has_alerts = and_(granted, active_alerts > 0)
    window_open = exists().where(
        RemoteWindow.installation_id == Installation.id,
        RemoteWindow.state == "granted",
        RemoteWindow.until > now,
    )
    score = (
        case((has_alerts, ALERT_WEIGHT), else_=0)
        + case((offline, OFFLINE_WEIGHT), else_=0)
        + case((~linked, PENDING_WEIGHT), else_=0)
    )
    query = (
        select(
            Installation.id.label("id"),
            Installation.name.label("name"),
            score.label("score"),
            case((offline, 1), else_=0).label("offline"),
            case((has_alerts, 1), else_=0).label("alerts"),
            case((Installation.status == RegistrationStatus.PENDING.value, 1), else_=0).label(
                "pending"
            ),
            case((window_open, 1), else_=0).label("window"),
        )
        .outerjoin(InstallationState, InstallationState.installation_id == Installation.id)
        .where(Installation.company_id == actor.company_id)
    )
    return assigned_only(query, actor)


def _search(query: Select[Any], text: str) -> Select[Any]:
    if not text:
        return query
    lowered = text.lower()
    matches = [
        func.lower(Installation.name).contains(lowered, autoescape=True),
        func.lower(Installation.customer_email).contains(lowered, autoescape=True),
    ]
    digits = "".join(c for c in text if c.isascii() and c.isdigit())
    if len(digits) >= 3 and all(c.isascii() and (c.isdigit() or c in " -") for c in text):
        matches.append(
            func.replace(Installation.box_pin, "-", "").contains(digits, autoescape=True)
        )
    return query.where(or_(*matches))


async def _counts(db: AsyncSession, rows: Any) -> dict[str, int]:
    result = (
        await db.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((rows.c.score > 0, 1), else_=0)), 0),
                func.coalesce(func.sum(rows.c.offline), 0),
                func.coalesce(func.sum(rows.c.alerts), 0),
                func.coalesce(func.sum(rows.c.pending), 0),
                func.coalesce(func.sum(rows.c.window), 0),
            ).select_from(rows)
        )
    ).one()
    return {name: int(value) for name, value in zip(FILTERS, result, strict=True)}


def _page(rows: Any, query: QueueQuery) -> Select[Any]:
    page = select(rows.c.id, rows.c.name, rows.c.score)
    if query.status == "problems":
        page = page.where(rows.c.score > 0)
    elif query.status != "all":
        page = page.where(rows.c[query.status] == 1)
    start = _decode(query.after, query.sort)
    if query.sort == "problems":
        if start is not None:
            score, row_id = start
            page = page.where(
                or_(rows.c.score < score, and_(rows.c.score == score, rows.c.id < row_id))
            )
        page = page.order_by(rows.c.score.desc(), rows.c.id.desc())
    elif query.sort == "name":
        if start is not None:
            name, row_id = start
            # ">=" gives the planners the index range; the OR alone is a filter on PostgreSQL.
            page = page.where(
                rows.c.name >= name,
                or_(rows.c.name > name, and_(rows.c.name == name, rows.c.id > row_id)),
            )
        page = page.order_by(rows.c.name, rows.c.id)
    else:
        if start is not None:
            page = page.where(rows.c.id < start[1])
        page = page.order_by(rows.c.id.desc())
    return page.limit(PAGE_SIZE + 1)


async def work_queue(core: Core, actor_id: int, query: QueueQuery) -> QueuePage:
    """One page of the installations the user may see, as :class:`QueueQuery` asks."""
    now = core.now()
    async with core.tx() as db:
        actor = await fresh_actor(db, actor_id, admin=False)
        rows = _search(_rows(actor, now), query.search).subquery()
        counts = await _counts(db, rows)
        found, last = split_page((await db.execute(_page(rows, query))).all(), PAGE_SIZE)
        ids = [row.id for row in found]
        details = await _details(db, ids, now)
        page_rows = [details[i] for i in ids]
        next_after = None
        if last is not None:
            key = {"problems": last.score, "name": last.name, "newest": last.id}[query.sort]
            next_after = encode_cursor(key, last.id)
        return QueuePage(page_rows, query, counts, next_after)


async def _details(db: AsyncSession, ids: list[int], now: datetime) -> dict[int, QueueRow]:
    """What a page's rows show, in a fixed number of queries (never one per row)."""
    if not ids:
        return {}
    pairs = (
        await db.execute(
            select(Installation, InstallationState)
            .outerjoin(InstallationState, InstallationState.installation_id == Installation.id)
            .where(Installation.id.in_(ids))
        )
    ).tuples()
    alerts: dict[int, list[tuple[str, int]]] = {i: [] for i in ids}
    for installation_id, kind, count in (
        await db.execute(
            select(Alert.installation_id, Alert.type, func.count())
            .where(Alert.active.is_(True), Alert.installation_id.in_(ids))
            .group_by(Alert.installation_id, Alert.type)
        )
    ).tuples():
        alerts[installation_id].append((kind, int(count)))
    windows: dict[int, datetime] = {}
    for installation_id, until in (
        await db.execute(
            select(RemoteWindow.installation_id, func.max(RemoteWindow.until))
            .where(
                RemoteWindow.installation_id.in_(ids),
                RemoteWindow.state == "granted",
                RemoteWindow.until > now,
            )
            .group_by(RemoteWindow.installation_id)
        )
    ).tuples():
        if until is not None:
            windows[installation_id] = until
    assignees = await assignees_of(db, ids)
    result: dict[int, QueueRow] = {}
    for installation, state in pairs:
        granted = state is not None and state.monitoring == Monitoring.GRANTED.value
        connected = bool(state and state.connected)
        box_online = state.box_online if state is not None and granted else None
        linked = installation.status == RegistrationStatus.LINKED.value
        result[installation.id] = QueueRow(
            installation=installation,
            monitoring=state.monitoring if state is not None else Monitoring.NONE.value,
            connected=connected,
            box_online=box_online,
            offline=linked and (not connected or box_online is False),
            alerts=sorted(alerts[installation.id], key=lambda a: (severity(a[0]), a[0]))
            if granted
            else [],
            window_until=windows.get(installation.id),
            assignees=assignees[installation.id],
        )
    return result
