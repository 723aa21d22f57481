"""The installations list's search: what "contains" means and which index serves it.

A search matches an installation whose name or customer e-mail contains the text, case
aside, or (text of digits, spaces and dashes only, three digits or more) whose box PIN
contains those digits, dashes aside. PostgreSQL serves it with pg_trgm's indexes (revision
0018). SQLite, where no B-tree serves a leading wildcard, with the FTS5 trigram table
``installations_search`` (revision 0025) when its SQLite has one; a text of fewer than
three characters (no trigram in it) reads the company's rows, as every search did before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    Select,
    SQLColumnExpression,
    String,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
)

from companion_server.models import Installation

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

TRIGRAM: Final = 3  # characters of the shortest text the trigram index can serve
# Matches in the trigram index (every company's) up to which a search reads them from it.
INDEXED_BOUND: Final = 5000
_INDEX: Final = table("installations_search", column("rowid", Integer))
# Whether each engine's database has the table (asked once: the schema is migrated before
# the portal serves, and a database never loses it but by a downgrade).
_INDEXED: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def pin_digits(text: str) -> str | None:
    """The digits a text searches the box PINs for, or None when it is not a PIN's part."""
    digits = "".join(c for c in text if c.isascii() and c.isdigit())
    if len(digits) >= TRIGRAM and all(c.isascii() and (c.isdigit() or c in " -") for c in text):
        return digits
    return None


def scanned(text: str, sqlite: bool) -> ColumnElement[bool]:
    """The match read from each row (lower-cased ``LIKE``): any text, any database.

    SQLite's ``LIKE`` folds the case of ASCII letters and its ``lower`` folds nothing else,
    so there the column is compared as it is: the same matches, for half the time of a
    scan (100,000 rows: 25 ms instead of 50). PostgreSQL's ``LIKE`` folds nothing, and its
    trigram indexes are on ``lower(column)``.
    """
    lowered = text.lower()
    columns = (Installation.name, Installation.customer_email)
    matches = [
        _contains(field if sqlite else func.lower(field), lowered, inline=not sqlite)
        for field in columns
    ]
    digits = pin_digits(text)
    if digits is not None:
        matches.append(
            _contains(func.replace(Installation.box_pin, "-", ""), digits, inline=not sqlite)
        )
    return or_(*matches)


def _contains(value: SQLColumnExpression[Any], text: str, *, inline: bool) -> ColumnElement[bool]:
    """``value`` contains ``text`` (``LIKE``, its wildcards escaped).

    ``inline``: the pattern is written into the statement (quoted by SQLAlchemy), not bound.
    A bound pattern makes one prepared statement of every search, and after five runs
    PostgreSQL plans it once for any pattern: a plan that walks the whole trigram index,
    94 ms for "42" where the plan for that text takes 19 ms (0.5 ms instead of 17 for a
    longer one). Inline, each text is planned for itself.
    """
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    pattern = bindparam(None, f"%{escaped}%", type_=String(), literal_execute=inline)
    return value.like(pattern, escape="/")


def _phrase(value: str) -> str:
    """``value`` as an FTS5 string: consecutive trigrams, i.e. a substring."""
    return '"' + value.replace('"', '""') + '"'


def _expression(text: str) -> str:
    """The FTS5 query of ``text`` (of :data:`TRIGRAM` characters or more)."""
    expression = "{name customer_email} : " + _phrase(text)
    digits = pin_digits(text)
    if digits is not None:
        expression += " OR pin : " + _phrase(digits)
    return expression


def _indexed(expression: str) -> Select[tuple[int]]:
    """The ids of the installations (of every company) the trigram index finds."""
    return select(_INDEX.c.rowid).where(literal_column(_INDEX.name).bool_op("MATCH")(expression))


async def has_index(db: AsyncSession) -> bool:
    """Whether the session's database has the trigram table (SQLite with FTS5 3.34+)."""
    engine = db.get_bind().engine
    known = _INDEXED.get(engine)
    if known is None:
        if engine.dialect.name != "sqlite":
            known = False
        else:
            found = await db.scalar(
                select(column("name", String))
                .select_from(table("sqlite_master"))
                .where(column("name", String) == _INDEX.name)
            )
            known = found is not None
        _INDEXED[engine] = known
    return known


async def matching(db: AsyncSession, text: str) -> ColumnElement[bool]:
    """The installations ``text`` finds, read the cheapest way this database has.

    The trigram index when it serves the text and finds at most :data:`INDEXED_BOUND`
    installations (of every company): their ids, looked up by key. Past that, the rows in
    the list's order, where a page meets its matches within a few rows, beat reading the
    index's every match for each statement of the page (a text such as "ins" is in every
    name). Only for an ASCII text: FTS5 folds the case of every letter (accented ones too,
    as PostgreSQL's ``lower``), SQLite's ``lower`` and ``LIKE`` the ASCII letters only, so
    the two agree on an ASCII text alone (fewer than three characters: see the module).
    """
    sqlite = db.get_bind().dialect.name == "sqlite"
    if len(text) < TRIGRAM or not await has_index(db):
        return scanned(text, sqlite)
    found = _indexed(_expression(text))
    if text.isascii():
        bounded = found.limit(INDEXED_BOUND + 1).subquery()
        count = await db.scalar(select(func.count()).select_from(bounded))
        if count is not None and count > INDEXED_BOUND:
            return scanned(text, sqlite)
    return Installation.id.in_(found)
