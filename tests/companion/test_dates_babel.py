"""The pages' dates and times read as Babel writes them, with its lookups done once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import random
import zoneinfo

from babel import dates as babel_dates
import pytest

from companion_server.i18n import LANGUAGES
from companion_server.i18n.dates import format_clock, format_when

# Zones with daylight saving time, half-hour and 45-minute offsets, and none (UTC, said).
ZONES = (None, "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham")


def _instants() -> list[datetime]:
    """Times over ten years (transitions among them), a tenth without a zone (read as UTC)."""
    rng = random.Random(17)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    values = [start + timedelta(seconds=rng.randrange(10 * 365 * 86400)) for _ in range(200)]
    values += [datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, 0)]
    return [v.replace(tzinfo=None) if n % 10 == 0 else v for n, v in enumerate(values)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("zone", ZONES)
def test_times_read_as_babel_writes_them(language: str, zone: str | None) -> None:
    tz = zoneinfo.ZoneInfo(zone or "UTC")
    said = "" if zone else " UTC"
    for value in _instants():
        for width in ("short", "medium"):
            expected = babel_dates.format_datetime(value, width, tzinfo=tz, locale=language)
            assert format_when(value, language, zone, width) == expected + said
        expected = babel_dates.format_time(value, "short", tzinfo=tz, locale=language)
        assert format_clock(value, language, zone) == expected + said
