"""The installations list as a work queue: state, alerts, Serv-e-go and windows per row.

The "problems first" order is the installation's stored attention score (the database keeps
it as alerts, connection and registration change), so a page is a range of an index read
by keyset (the last row's sort key, never OFFSET), and the counts per filter are bounded:
a page costs the same queries and about the same time whatever the page and however many
installations the company has, and rows do not shift between pages when installations are
added meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    select,
    union_all,
)

from companion_server.installations.queue_rows import QueueRow, page_rows, queue_row, rows_of_keys
from companion_server.installations.search import matching
from companion_server.installations.services import assigned_only, assigned_to
from companion_server.keyset import (
    after_key,
    choice_param,
    decode_cursor,
    encode_cursor,
    search_param,
    split_page,
)
from companion_server.models import (
    ATTENTION_ALERTS,
    ATTENTION_NOT_LINKED,
    ATTENTION_OFFLINE,
    Installation,
    RegistrationStatus,
    RemoteWindow,
    User,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql.elements import BindParameter
    from sqlalchemy.sql.selectable import ScalarSelect

    from companion_server.core import Core

PAGE_SIZE: Final = 50
MAX_SEARCH: Final = 200
# "problems": anything needing attention; then one kind of problem each.
FILTERS: Final = ("all", "problems", "offline", "alerts", "pending", "window")
SORTS: Final = ("problems", "name", "newest")
# The attention scores an installation can have, worst first (offline needs a link, so
# "offline and not linked" never occurs): the "problems first" order.
SCORES: Final = (
    ATTENTION_ALERTS + ATTENTION_OFFLINE,
    ATTENTION_ALERTS + ATTENTION_NOT_LINKED,
    ATTENTION_ALERTS,
    ATTENTION_OFFLINE,
    ATTENTION_NOT_LINKED,
    0,
)
# The type of a later page's key by order ("problems first": the score, part of the shape).
_KEY_TYPES: Final = {"name": Installation.name.type, "newest": Installation.id.type}
# Counts per filter stop there: past it the page says "1000+" (a count reads index entries).
COUNT_BOUND: Final = 1000


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
class QueuePage:
    """One page of the work queue."""

    rows: list[QueueRow]
    query: QueueQuery
    counts: dict[str, int]  # installations per filter (for the search given)
    next_after: str | None

    @property
    def total(self) -> int:
        """How many installations the current filter and search match (up to the bound + 1)."""
        return self.counts[self.query.status]

    def shown(self, status: str) -> str:
        """A filter's count as shown: past :data:`COUNT_BOUND`, "1000+"."""
        count = self.counts[status]
        return f"{COUNT_BOUND}+" if count > COUNT_BOUND else str(count)


def _decode(cursor: str | None, sort: str) -> tuple[Any, int] | None:
    """The sort key and id a page starts after; None (the first page) when unreadable."""
    if sort == "name":
        return decode_cursor(cursor, str)
    return decode_cursor(cursor, int)


def _open_windows(now: datetime | BindParameter[datetime]) -> Select[Any]:
    """The installations with a remote-service window open (few: windows last hours)."""
    return select(RemoteWindow.installation_id).where(
        RemoteWindow.state == "granted", RemoteWindow.until > now
    )


def _company_windows(
    company_id: int | BindParameter[int], now: datetime | BindParameter[datetime]
) -> Select[Any]:
    """The company's installations with a window open: one range of the company's index.

    Asked per installation instead ("has this one an open window?"), the count probed the
    windows' index once for each installation read until it had counted its bound.
    """
    return _open_windows(now).where(RemoteWindow.company_id == company_id)


def _keys() -> Select[Any]:
    """What a page reads of its installations from an index: the keys of its orders."""
    return select(Installation.id, Installation.name, Installation.attention)


def _visible(actor: User, search: ColumnElement[bool] | None) -> Select[Any]:
    """The keys of the installations the actor sees that match the search (if any)."""
    query = _keys().where(Installation.company_id == actor.company_id)
    if search is not None:
        query = query.where(search)
    return assigned_only(query, actor)


def _scores(status: str) -> tuple[int, ...]:
    """The attention scores a filter keeps, worst first (``all`` and ``window``: any)."""
    part = {
        "offline": ATTENTION_OFFLINE,
        "alerts": ATTENTION_ALERTS,
        "pending": ATTENTION_NOT_LINKED,
    }.get(status)
    if part is not None:
        return tuple(score for score in SCORES if score & part)
    if status == "problems":
        return SCORES[:-1]
    return SCORES


def _condition(
    status: str, company_id: int | BindParameter[int], now: datetime | BindParameter[datetime]
) -> ColumnElement[bool] | None:
    """What, besides its score, an installation needs to be in the filter."""
    if status == "pending":
        return Installation.status == RegistrationStatus.PENDING.value
    if status == "window":
        return Installation.id.in_(_company_windows(company_id, now))
    return None


def _runs(status: str) -> list[tuple[int, int]]:
    """The filter's scores as ranges (lowest, highest) of consecutive scores kept."""
    runs: list[list[int]] = []
    for score in _scores(status):
        if runs and SCORES.index(score) == SCORES.index(runs[-1][-1]) + 1:
            runs[-1].append(score)
        else:
            runs.append([score])
    return [(run[-1], run[0]) for run in runs]


def _problems_first(status: str, start: tuple[Any, Any] | None) -> list[ColumnElement[bool]]:
    """The (score, id) index ranges of a "problems first" page, each read backwards.

    After a cursor (score s, id i): the rest of score s below id i, then the scores below s;
    two ranges rather than one "(score, id) < (s, i)", which SQLite reads as "score <= s"
    and filters, walking every row of score s above the cursor.
    """
    ranges: list[ColumnElement[bool]] = []
    for low, high in _runs(status):
        if start is None or start[0] > high:
            ranges.append(Installation.attention.between(low, high))
            continue
        score, row_id = start
        if low <= score:
            ranges.append(and_(Installation.attention == score, Installation.id < row_id))
        if low <= score - 1:
            ranges.append(Installation.attention.between(low, min(high, score - 1)))
    return ranges


def _ranges(status: str, sort: str, start: tuple[Any, Any] | None) -> list[Any]:
    """The index ranges a page reads, one query each; None: the list's own index."""
    if sort == "problems":
        return list(_problems_first(status, start))
    scores = _scores(status)
    if scores == SCORES:
        return [None]
    return [Installation.attention == score for score in scores]


def _ordered(
    query: Select[Any], sort: str, start: tuple[Any, Any] | None, size: int
) -> Select[Any]:
    """``query`` from the cursor on, in the sort's order, one row more than a page."""
    if sort == "problems":
        query = query.order_by(Installation.attention.desc(), Installation.id.desc())
    elif sort == "name":
        if start is not None:
            query = query.where(after_key(Installation.name, Installation.id, start))
        query = query.order_by(Installation.name, Installation.id)
    else:
        if start is not None:
            query = query.where(Installation.id < start[1])
        query = query.order_by(Installation.id.desc())
    return query.limit(size + 1)


def _page(
    visible: Select[Any],
    status: str,
    sort: str,
    start: tuple[Any, Any] | None,
    company_id: int | BindParameter[int],
    now: datetime | BindParameter[datetime],
    size: int,
) -> Select[Any] | None:
    """The page's keys, ``size`` and one more: each range of an index a query, merged."""
    condition = _condition(status, company_id, now)
    if condition is not None:
        visible = visible.where(condition)
    branches = [
        _ordered(visible if score is None else visible.where(score), sort, start, size)
        for score in _ranges(status, sort, start)
    ]
    if len(branches) <= 1:
        return branches[0] if branches else None
    # Each branch in a subquery of its own: SQLite allows no ORDER BY or LIMIT in a compound.
    merged = union_all(*(select(branch.subquery()) for branch in branches)).subquery()
    order = {
        "problems": (merged.c.attention.desc(), merged.c.id.desc()),
        "name": (merged.c.name, merged.c.id),
        "newest": (merged.c.id.desc(),),
    }[sort]
    return select(merged).order_by(*order).limit(size + 1)


@cache
def _listed_rows(
    status: str,
    sort: str,
    assigned: bool,
    score: int | None,
    resumed: bool,
    size: int,
    dialect: str,
) -> Select[Any] | None:
    """A page of the list without a search, its keys and rows in one statement.

    Parameters: :func:`_listed_page`'s, and ``now``.
    """
    keys = _listed_page(status, sort, assigned, score, resumed, size)
    return None if keys is None else rows_of_keys(keys, sort, dialect)


@cache
def _listed_page(
    status: str, sort: str, assigned: bool, score: int | None, resumed: bool, size: int
) -> Select[Any] | None:
    """A page of the list without a search, built once for each shape.

    Parameters ``company_id``, ``user_id`` when ``assigned``, ``now``, and when ``resumed``
    (a later page) ``after_key`` and ``after_id``; the cursor's score, which decides the
    ranges a "problems first" page reads, is part of the shape (one of :data:`SCORES`,
    which bounds the shapes kept).
    Built for each request, the page's statement and its cache key cost a twelfth of it.
    """
    company_id = bindparam("company_id", type_=Installation.company_id.type)
    visible = _keys().where(Installation.company_id == company_id)
    if assigned:
        visible = assigned_to(visible, Installation.id, bindparam("user_id"))
    start: tuple[Any, Any] | None = None
    if resumed:
        key = score if sort == "problems" else bindparam("after_key", type_=_KEY_TYPES[sort])
        start = (key, bindparam("after_id", type_=Installation.id.type))
    now = bindparam("now", type_=RemoteWindow.until.type)
    return _page(visible, status, sort, start, company_id, now, size)


@cache
def _counts_statement(assigned: bool, bound: int) -> Select[Any]:
    """How many installations each filter holds, counted up to ``bound`` + 1.

    Each count reads at most that many index entries, whatever the company's size. Built
    once (parameters ``company_id``, ``user_id`` when ``assigned``, ``now``): building and
    keying a statement of six subqueries cost more than the database's answer.
    """
    company_id = bindparam("company_id", type_=Installation.company_id.type)
    visible = select(Installation.id, Installation.name, Installation.attention).where(
        Installation.company_id == company_id
    )
    if assigned:
        visible = assigned_to(visible, Installation.id, bindparam("user_id"))
    now = bindparam("now", type_=RemoteWindow.until.type)
    counts = []
    for status in FILTERS:
        if status == "window":
            counts.append(_windows_count(company_id, now, assigned, bound))
            continue
        scores = _scores(status)
        # A pending installation always has the "not linked" part of the score (the triggers
        # keep it from the status): counted from the (company, status, id) index alone, where
        # the scores too made both databases read each row for its score.
        if scores == SCORES or status == "pending":
            rows = visible
        else:
            rows = visible.where(Installation.attention.in_(scores))
        condition = _condition(status, company_id, now)
        if condition is not None:
            rows = rows.where(condition)
        bounded = rows.with_only_columns(Installation.id).limit(bound + 1).subquery()
        counts.append(select(func.count()).select_from(bounded).scalar_subquery())
    return select(*counts)


def _windows_count(
    company_id: BindParameter[int], now: BindParameter[datetime], assigned: bool, bound: int
) -> ScalarSelect[Any]:
    """The installations with a window open, counted from the company's open windows.

    Read from the windows' ``(company_id, state, until, installation_id)`` index alone (an
    installer's: joined to their assignments), never from the company's installations.
    Distinct: an installation counts once, however many windows say they are open.
    """
    bounded = _windows_open(company_id, now, assigned, bound).subquery()
    return select(func.count()).select_from(bounded).scalar_subquery()


def _windows_open(
    company_id: BindParameter[int], now: BindParameter[datetime], assigned: bool, bound: int
) -> Select[Any]:
    """The installations with a window open, once each, at most ``bound`` + 1.

    An installer's are joined to their assignments (parameter ``user_id``).
    """
    rows = _company_windows(company_id, now)
    if assigned:
        rows = assigned_to(rows, RemoteWindow.installation_id, bindparam("user_id"))
    return rows.distinct().limit(bound + 1)


@cache
def _window_ids(assigned: bool, bound: int) -> Select[Any]:
    """:func:`_windows_open` built once (parameters ``company_id``, ``now``, ``user_id``)."""
    company_id = bindparam("company_id", type_=Installation.company_id.type)
    return _windows_open(
        company_id, bindparam("now", type_=RemoteWindow.until.type), assigned, bound
    )


async def _with_window(db: AsyncSession, actor: User, now: datetime) -> list[int] | None:
    """The installations ``actor`` sees with a window open, or None when more than the bound.

    Read from the windows' index: a company's open windows are few (they last hours), and
    walking its installations in the page's order to find them read all of them when the
    windows were rare. Many open windows: the general way, which then soon meets enough.
    """
    statement = _window_ids(not actor.is_admin, COUNT_BOUND)
    params = {"company_id": actor.company_id, "user_id": actor.id, "now": now}
    ids = list(await db.scalars(statement, params))
    return None if len(ids) > COUNT_BOUND else ids


async def _searched(
    db: AsyncSession, visible: Select[Any], now: datetime
) -> tuple[list[int], dict[str, int]] | None:
    """A search's installations narrowed to their ids and counted, or None when too many.

    Substring search reads every installation of the company where no index serves it
    (SQLite): once here, for the matches (at most :data:`COUNT_BOUND`), rather than once
    per filter count and per range of the page. More matches: the general way, bounded.
    """
    matches = (
        await db.execute(visible.add_columns(Installation.status).limit(COUNT_BOUND + 1))
    ).all()
    if len(matches) > COUNT_BOUND:
        return None
    ids = [row.id for row in matches]
    windows = set(await db.scalars(_open_windows(now).where(RemoteWindow.installation_id.in_(ids))))
    scores = {status: set(_scores(status)) for status in FILTERS}
    counts = {
        status: sum(
            1
            for row in matches
            if row.attention in scores[status]
            and (status != "pending" or row.status == RegistrationStatus.PENDING.value)
            and (status != "window" or row.id in windows)
        )
        for status in FILTERS
    }
    return ids, counts


async def work_queue(core: Core, actor: User, query: QueueQuery) -> QueuePage:
    """One page of the installations ``actor`` may see, as :class:`QueueQuery` asks.

    ``actor`` as this request loaded it with its session (the page's reads need no fresher
    copy: reading the user again cost a statement, a twelfth of the page).
    """
    now = core.now()
    async with core.reads() as db:
        searched = None
        if query.search:
            matches = _visible(actor, await matching(db, query.search))
            searched = await _searched(db, matches, now)
        if searched is None:
            counted = (
                await db.execute(
                    _counts_statement(not actor.is_admin, COUNT_BOUND),
                    {"company_id": actor.company_id, "user_id": actor.id, "now": now},
                )
            ).one()
            counts = {name: int(value) for name, value in zip(FILTERS, counted, strict=True)}
        else:
            matched, counts = searched
        few, status = None, query.status
        if searched is not None:
            few = matched
        elif query.status == "window" and not query.search:
            few = await _with_window(db, actor, now)
            status = "all"  # those ids are the filter
        start = _decode(query.after, query.sort)
        score = start[0] if start is not None and query.sort == "problems" else None
        if few is None and not query.search and (score is None or score in SCORES):
            # The list's own pages: keys and rows in one statement kept for the page's shape.
            dialect = db.get_bind().dialect.name
            listed = _listed_rows(
                query.status, query.sort, not actor.is_admin, score, start is not None, PAGE_SIZE,
                dialect,
            )  # fmt: skip
            params = {"company_id": actor.company_id, "user_id": actor.id, "now": now}
            if start is not None:
                params |= {"after_key": start[0], "after_id": start[1]}
            listing = [] if listed is None else (await db.execute(listed, params)).all()
            found, last = split_page(listing, PAGE_SIZE)
            rows = [queue_row(row, dialect) for row in found]
        else:
            if few is not None:
                # Few installations, known by id: the page looks them up, without the
                # company's (or the assignments') terms, which they passed already. With
                # them, SQLite walked the company's index in the page's order (10 ms for a
                # search), and both databases read installations one by one until they met
                # enough of the few.
                visible = _keys().where(Installation.id.in_(few))
            else:
                # Many matches of a search, or a cursor written by hand.
                visible = matches if query.search else _visible(actor, None)
            page = _page(visible, status, query.sort, start, actor.company_id, now, PAGE_SIZE)
            keys = [] if page is None else (await db.execute(page)).all()
            found, last = split_page(keys, PAGE_SIZE)
            rows = await page_rows(db, [row.id for row in found], now)
        next_after = None
        if last is not None:
            key = {"problems": last.attention, "name": last.name, "newest": last.id}[query.sort]
            next_after = encode_cursor(key, last.id)
        return QueuePage(rows, query, counts, next_after)
