"""Where a page of the console's queue starts: the last case's (urgency, opening time, id).

The queue's order is ``call_protocol.queue_key`` then the id. Its urgency is computed by the
database from the case's kind, spelled exactly as the ``ix_centre_cases_queue`` index spells
it, so the page is a range of that index.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy import and_, literal, literal_column, tuple_

from companion_server.keyset import decode_cursor, encode_cursor
from companion_server.models import CentreCase
from companion_server.models.base import UTCDateTime
from companion_server.models.centre import QUEUE_URGENCY_SQL

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

# Qualified: the queue joins installations and users. The planners resolve the column, so
# the qualified expression still matches the index's (parenthesised: PostgreSQL's index
# syntax wants an expression in parentheses).
URGENCY: Final[ColumnElement[int]] = literal_column(
    QUEUE_URGENCY_SQL.replace("CASE kind", "CASE centre_cases.kind", 1)
)
# The urgencies a case can have (3: a kind the portal does not know, last).
MAX_URGENCY: Final = 3

type Start = tuple[int, datetime, int]


def encode(urgency: int, row: CentreCase) -> str:
    """The cursor of the page after ``row`` (``urgency`` as the database computed it)."""
    return encode_cursor(f"{urgency} {row.opened_at.isoformat()}", row.id)


def decode(cursor: str | None) -> Start | None:
    """The (urgency, opening time, id) a page starts after; None (the first page) if unreadable."""
    start = decode_cursor(cursor, str)
    if start is None:
        return None
    key, row_id = start
    urgency, _, opened = key.partition(" ")
    if urgency not in {str(n) for n in range(MAX_URGENCY + 1)}:
        return None
    try:
        at = datetime.fromisoformat(opened)
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return int(urgency), at, row_id


def after(start: Start) -> ColumnElement[bool]:
    """The cases after ``start`` in queue order.

    A row-value comparison, which PostgreSQL reads as one range of the index however deep
    the page (with an OR of the three columns it only bounds the urgency, then filters the
    cases of that urgency before the cursor). SQLite does not bound an index by a row value
    that holds an expression: the redundant bound on the urgency gives it the range.
    """
    urgency, opened_at, last_id = start
    return and_(
        URGENCY >= urgency,  # noqa: SIM300 (URGENCY is a column expression, not a constant)
        tuple_(URGENCY, CentreCase.opened_at, CentreCase.id)
        > tuple_(literal(urgency), literal(opened_at, UTCDateTime()), literal(last_id)),
    )
