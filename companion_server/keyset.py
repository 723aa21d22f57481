"""Keyset pagination of the portal's lists (the last row's sort key, never OFFSET).

A page costs the same number of queries whatever its position, and rows do not shift between
pages when rows are added meanwhile. Each list reads its query parameters and asks one row
more than a page: that row tells whether a next page exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


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
