"""Box data in the user's language: every product type, defect, value and kind translated.

Every value the box sends that reaches a page goes through a catalogue: the pages are
rendered in the four languages with a product of every type and state, and no raw key
shows where a translation exists. Times are shown in the user's zone and locale.
"""

from __future__ import annotations

from datetime import UTC, datetime
import html
import json
from pathlib import Path
import re

from pyoverkiz.enums.ui import UIClass
import pytest
from sqlalchemy import select

from companion_server.core import Core
from companion_server.i18n import LANGUAGES, translator
from companion_server.i18n.dates import format_clock, format_when, valid_time_zone
from companion_server.interventions.rules import KIND_LABELS
from companion_server.models import (
    Alert,
    Device,
    Role,
    User,
)
from companion_server.monitoring.box_values import (
    BATTERY_LABELS,
    DEFECT_LABELS,
    RADIO_LABELS,
    UI_CLASS_LABELS,
    readable,
)
from companion_server.monitoring.labels import ALERT_LABELS
from tests.companion.helpers import BrowserFactory, add_monitored_site, make_company, make_user

PROFILES = Path(__file__).parents[2] / "box_simulator" / "scenarios" / "profiles.json"
TAG = re.compile(r"<[^>]+>")


def test_every_ui_class_of_the_box_api_has_a_label() -> None:
    assert set(UI_CLASS_LABELS) == {c.value for c in UIClass}
    profiles = json.loads(PROFILES.read_text(encoding="utf-8"))
    simulated = {p["uiClass"] for p in profiles.values() if isinstance(p, dict) and "uiClass" in p}
    assert simulated and simulated <= set(UI_CLASS_LABELS)


def test_unknown_codes_are_readable() -> None:
    assert readable("SolarPanel") == "Solar panel"
    assert readable("IRBlasterThing") == "IR blaster thing"
    assert readable("superDefect") == "Super defect"
    assert readable("") == ""


async def _world(core: Core) -> int:
    company = await make_company(core)
    now = core.now()
    for language in LANGUAGES:
        await make_user(
            core, company, f"{language}@example.com", role=Role.ADMIN, language=language
        )
    async with core.tx() as db:
        site = await add_monitored_site(db, company, now)
        defects, batteries, radios = list(DEFECT_LABELS), list(BATTERY_LABELS), list(RADIO_LABELS)
        for number, ui_class in enumerate(UI_CLASS_LABELS):
            db.add(
                Device(
                    installation_id=site.id,
                    url=f"io://box/{number}",
                    label=f"Product {number}",
                    protocol="io",
                    ui_class=ui_class,
                    online=True,
                    rssi=None,
                    rssi_level=radios[number % len(radios)],
                    battery=batteries[number % len(batteries)],
                    defect=defects[number % len(defects)],
                    updated_at=now,
                )
            )
        for number, kind in enumerate(ALERT_LABELS):
            db.add(
                Alert(
                    installation_id=site.id,
                    alert_id=f"a{number}",
                    type=kind,
                    active=True,
                    at=now,
                    received_at=now,
                )
            )
        return site.id


def _rows(html: str, marker: str) -> dict[str, str]:
    """The text of each table row carrying ``marker`` (tags stripped)."""
    found = re.findall(rf'<tr {marker}="([^"]+)">(.*?)</tr>', html, re.S)
    return {key: _text(body) for key, body in found}


def _text(html_text: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", html_text)).split())


def _shows(text: str, code: str, label: str) -> bool:
    """The label is there, and the raw code is not (unless the translation is the code)."""
    rest = text.replace(label, " ")
    raw = label != code and re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", rest)
    return label in text and not raw


@pytest.mark.parametrize("language", LANGUAGES)
async def test_no_raw_key_reaches_a_page(
    core: Core, browsers: BrowserFactory, language: str
) -> None:
    site = await _world(core)
    browser = await browsers.new()
    await browser.login(f"{language}@example.com")
    _ = translator(language)
    page = await browser.get(f"/installations/{site}/devices")
    rows = _rows(page.raw, "data-device")
    assert len(rows) == len(UI_CLASS_LABELS)
    async with core.tx() as db:
        devices = {d.url: d for d in await db.scalars(select(Device))}
    failures: list[tuple[str, str | None, str]] = []
    for url, text in rows.items():
        d = devices[url]
        for code, table in (
            (d.ui_class, UI_CLASS_LABELS),
            (d.battery, BATTERY_LABELS),
            (d.rssi_level, RADIO_LABELS),
        ):
            assert code is not None
            if not _shows(text, code, _(table[code])):
                failures.append((url, code, text))
        if d.defect != "noDefect" and not _shows(
            text, str(d.defect), _(DEFECT_LABELS[str(d.defect)])
        ):
            failures.append((url, d.defect, text))
    assert failures == []
    # A product page: type, battery, radio and defect.
    for d in list(devices.values())[:8]:
        text = _text((await browser.get(f"/installations/{site}/devices/{d.id}")).raw)
        for code, table in (
            (d.ui_class, UI_CLASS_LABELS),
            (d.battery, BATTERY_LABELS),
            (d.rssi_level, RADIO_LABELS),
            (d.defect, DEFECT_LABELS),
        ):
            assert code is not None and _shows(text, code, _(table[code])), (code, language)
    alerts = _rows((await browser.get(f"/installations/{site}/alerts")).raw, "data-alert")
    async with core.tx() as db:
        types = dict((await db.execute(select(Alert.alert_id, Alert.type))).tuples().all())
    for alert_id, text in alerts.items():
        assert _shows(text, types[alert_id], _(ALERT_LABELS[types[alert_id]])), text
    # The remote-service request form offers every kind by its name.
    text = _text((await browser.get(f"/installations/{site}")).raw)
    for kind, label in KIND_LABELS.items():
        assert _shows(text, kind, _(label)), (kind, language)


def test_times_in_the_users_zone_and_locale() -> None:
    at = datetime(2026, 3, 2, 8, 5, tzinfo=UTC)
    assert format_when(at, "en", "Europe/Paris") == "Mar 2, 2026, 9:05:00\u202fAM"
    assert format_when(at, "fr", "Europe/Paris") == "2 mars 2026, 09:05:00"
    assert format_when(at, "sk", "America/New_York", "short") == "2. 3. 2026 3:05"
    assert format_when(at, "es", None) == "2 mar 2026, 8:05:00 UTC"
    assert format_clock(at, "fr", "Asia/Tokyo") == "17:05"
    assert format_clock(at, "en", "../../etc/passwd") == "8:05\u202fAM UTC"
    for bad in ("", "Mars/Olympus", "../etc/passwd", "Europe/Paris\n", "x" * 100):
        assert not valid_time_zone(bad)
    assert valid_time_zone("America/Argentina/Buenos_Aires")


async def _time_zone(core: Core, email: str) -> str | None:
    async with core.tx() as db:
        return await db.scalar(select(User.time_zone).where(User.email == email))


async def test_time_zone_from_the_browser_then_the_profile(
    core: Core, browsers: BrowserFactory
) -> None:
    company = await make_company(core)
    await make_user(core, company, "zoe@example.com", name="Zoé", language="fr")
    browser = await browsers.new()
    # The login form's hidden field (filled by static/time_zone.js) sets the first zone.
    browser.csrf = None
    await browser.post(
        "/login",
        {"email": "zoe@example.com", "password": "a long enough password", "time_zone": "Nope/X"},
    )
    assert await _time_zone(core, "zoe@example.com") is None
    other = await browsers.new()
    await other.post(
        "/login",
        {
            "email": "zoe@example.com",
            "password": "a long enough password",
            "time_zone": "Europe/Bratislava",
        },
    )
    assert await _time_zone(core, "zoe@example.com") == "Europe/Bratislava"
    # Later logins do not override it.
    await browser.post(
        "/login",
        {"email": "zoe@example.com", "password": "a long enough password", "time_zone": "UTC"},
    )
    assert await _time_zone(core, "zoe@example.com") == "Europe/Bratislava"

    page = await other.get("/profile")
    assert '<option value="Europe/Bratislava" selected>' in page.raw
    page = await other.post(
        "/profile", {"name": "Renamed", "language": "fr", "time_zone": "Mars/Olympus"}
    )
    assert page.status == 400 and "Choisissez un fuseau horaire dans la liste." in page.text
    async with core.tx() as db:
        user = await db.scalar(select(User).where(User.email == "zoe@example.com"))
    assert user is not None and (user.name, user.time_zone) == ("Zoé", "Europe/Bratislava")
    page = await other.post(
        "/profile", {"name": "Zoé", "language": "fr", "time_zone": "America/Montreal"}
    )
    assert page.status == 303
    assert await _time_zone(core, "zoe@example.com") == "America/Montreal"
