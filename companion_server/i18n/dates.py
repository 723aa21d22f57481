"""Times in the user's time zone and language (Babel), and time zone names checked.

The database holds aware UTC times; pages show them in the zone of the user's profile
(taken from the browser at the first login, changed on "My profile"), or in UTC, saying so,
while none is known.
"""

from __future__ import annotations

from datetime import UTC
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Literal
import zoneinfo

from babel import Locale, dates as babel_dates
import jinja2

if TYPE_CHECKING:
    from datetime import datetime

    from babel.dates import DateTimePattern

MAX_ZONE_LENGTH: Final = 64
Width = Literal["short", "medium"]


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name this system knows, sorted (what the profile offers)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def valid_time_zone(name: str) -> bool:
    """Whether ``name`` is a known IANA zone (never a path or a made-up name)."""
    return 0 < len(name) <= MAX_ZONE_LENGTH and name in _zone_set()


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(time_zones())


def _zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    return zoneinfo.ZoneInfo(name) if name and valid_time_zone(name) else None


@cache
def _formats(language: str, width: Width) -> tuple[Locale, str, DateTimePattern, DateTimePattern]:
    """A language's date-and-time glue and its time and date patterns at ``width``.

    What ``babel.dates.format_datetime`` and ``format_time`` look up on every call (the
    locale parsed from its name, the formats, the patterns): two thirds of their time, and a
    list page formats up to a hundred times. Formatting with them gives Babel's text.
    """
    locale = Locale.parse(language)
    # A text such as "{1}, {0}" (typed as a pattern by Babel, which replaces in it too).
    glue = str(babel_dates.get_datetime_format(width, locale=locale)).replace("'", "")
    time = babel_dates.parse_pattern(babel_dates.get_time_format(width, locale=locale))
    date = babel_dates.parse_pattern(babel_dates.get_date_format(width, locale=locale))
    return locale, glue, time, date


def _aware(value: datetime) -> datetime:
    """As Babel reads a time without a zone: in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def format_when(value: datetime, language: str, zone: str | None, width: Width = "medium") -> str:
    """A date and time, e.g. ``2 mars 2026, 09:00:00`` (``... UTC`` without a zone)."""
    tz = _zone(zone)
    locale, glue, time, date = _formats(language, width)
    local = _aware(value).astimezone(tz or UTC)
    # babel.dates.format_datetime's steps, its lookups aside.
    text = glue.replace(
        "{0}", time.apply(local.timetz(), locale, reference_date=local.date())
    ).replace("{1}", date.apply(local.date(), locale))
    return text if tz is not None else f"{text} UTC"


def format_clock(value: datetime, language: str, zone: str | None) -> str:
    """A time of day, e.g. ``9:00 AM`` (``... UTC`` without a zone)."""
    tz = _zone(zone)
    locale, _glue, time, _date = _formats(language, "short")
    # babel.dates.format_time's steps, its lookups aside (the reference date: the value's own).
    local = _aware(value).astimezone(tz or UTC)
    text = time.apply(local.timetz(), locale, reference_date=value.date())
    return text if tz is not None else f"{text} UTC"


def _of(context: Any) -> tuple[str, str | None]:
    user = context.get("user")
    return str(context.get("lang") or "en"), getattr(user, "time_zone", None)


@jinja2.pass_context
def when(context: Any, value: datetime | None, width: Width = "medium") -> str:
    """Template global: a date and time in the page's language and the user's zone."""
    if value is None:
        return ""
    return format_when(value, *_of(context), width)


@jinja2.pass_context
def clock(context: Any, value: datetime | None) -> str:
    """Template global: a time of day in the page's language and the user's zone."""
    if value is None:
        return ""
    return format_clock(value, *_of(context))


TEMPLATE_GLOBALS: Final[dict[str, Any]] = {"when": when, "clock": clock}
