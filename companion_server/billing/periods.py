"""Monthly billing periods and the proration of unused time, in whole days.

A subscription's periods start on its anchor day each month (the 31st falls back to the
month's last day, then comes back); days are counted in the company's time zone, so a
cancellation at 00:30 in Paris on the 1st is on the 1st whatever UTC says, DST included.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

MILLI: Final = 1000


def local_date(now: datetime, time_zone: str) -> date:
    """The calendar day of an aware instant in a time zone."""
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    return now.astimezone(ZoneInfo(time_zone)).date()


def add_months(day: date, months: int, anchor_day: int) -> date:
    """``day``'s month moved by ``months``, on the anchor day (or the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor_day, last))


def next_period_end(start: date, anchor_day: int) -> date:
    """The end (exclusive) of the monthly period starting on ``start``."""
    return add_months(start, 1, anchor_day)


def period_start_of(end: date, anchor_day: int) -> date:
    """The start of the monthly period ending (exclusive) on ``end``."""
    return add_months(end, -1, anchor_day)


def unused_milli(start: date, end: date, today: date) -> int:
    """The share of the period [start, end) not yet used on ``today``, in thousandths.

    Rounded down: a credit never gives back more than the unused days are worth.
    """
    if not start < end:
        raise ValueError("empty period")
    if today <= start:
        return MILLI
    if today >= end:
        return 0
    return (end - today).days * MILLI // (end - start).days
