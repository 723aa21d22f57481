"""Keyset pagination of the portal's lists (the last row's sort key, never OFFSET).

A page costs the same number of queries whatever its position, and rows do not shift between
pages when rows are added meanwhile. Each list reads its query parameters and asks one row
more than a page: that row tells whether a next page exists. A cursor the list cannot read
(edited by hand, cut, from an older portal) opens the first page: never an error page.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.orm import InstrumentedAttribute
    from sqlalchemy.sql.elements import ColumnElement

# Longer than any cursor the portal writes: a 200-character name in UTF-8 and an id, in
# base64, stay under 1,100 characters.
MAX_CURSOR = 2000


def search_param(params: Mapping[str, str], limit: int) -> str:
    """The search text (``q``), blanks collapsed, at most ``limit`` characters."""
    return " ".join(params.get("q", "").split())[:limit]


def choice_param(params: Mapping[str, str], name: str, allowed: Sequence[str], default: str) -> str:
    """One of ``allowed``; an unknown value falls back to ``default``."""
    value = params.get(name, default)
    return value if value in allowed else default


def split_page[Row](found: Sequence[Row], size: int) -> tuple[list[Row], Row | None]:
    """The page of rows fetched ``size + 1`` at most, and its last row when more follow."""
    rows = list(found[:size])
    return rows, (rows[-1] if len(found) > size else None)


def encode_cursor(key: str | int, row_id: int) -> str:
    """Where the next page starts: the last row's sort key and id, safe in a URL."""
    raw = json.dumps([key, row_id], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor[Key: (str, int)](
    cursor: str | None, key_type: type[Key]
) -> tuple[Key, int] | None:
    """The sort key and id a page starts after; None (the first page) when unreadable."""
    if not cursor or len(cursor) > MAX_CURSOR:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, row_id = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        return None
    if isinstance(row_id, bool) or not isinstance(row_id, int):
        return None
    if isinstance(key, bool) or not isinstance(key, key_type):
        return None
    return key, row_id


def after_key(
    key: InstrumentedAttribute[Any], row_id: InstrumentedAttribute[int], start: tuple[Any, int]
) -> ColumnElement[bool]:
    """The rows after ``start`` in (key, id) order.

    The redundant ``key >= ...`` gives the planners the index range: the OR alone is a
    filter on PostgreSQL.
    """
    value, last_id = start
    return and_(key >= value, or_(key > value, and_(key == value, row_id > last_id)))


def before_key(
    key: InstrumentedAttribute[Any], row_id: InstrumentedAttribute[int], start: tuple[Any, int]
) -> ColumnElement[bool]:
    """The rows after ``start`` in (key, id) descending order (newest first)."""
    value, last_id = start
    return and_(key <= value, or_(key < value, and_(key == value, row_id < last_id)))
