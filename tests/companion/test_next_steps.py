"""Pages say what comes next: the code's validity and where it goes, the radio chart's values."""

from __future__ import annotations

from datetime import timedelta
import html
import re

from companion_server.core import Core
from companion_server.models import Device, RadioSample, Role
from tests.companion.ha import registered
from tests.companion.helpers import (
    BrowserFactory,
    FakeClock,
    add_monitored_site,
    make_company,
    make_user,
)


async def test_a_pending_registration_says_until_when_and_where(
    core: Core, browsers: BrowserFactory, clock: FakeClock
) -> None:
    registration, _admin = await registered(core)
    browser = await browsers.new()
    await browser.login("boss@acme.example")
    page = await browser.get(f"/installations/{registration.installation_id}")
    text = " ".join(page.text.split())
    assert "valid until 3/9/26, 8:00 AM UTC (7 days left)" in text
    assert 'Settings > Devices & services > Somfy Pro > Configure > "Link an installer"' in text
    assert "http://127.0.0.1:8080" in text
    page = await browser.get("/installations/registrations")
    assert "code valid until 3/9/26" in page.text
    clock.advance(days=8)
    await browser.login("boss@acme.example")
    page = await browser.get(f"/installations/{registration.installation_id}")
    assert "data-code-expired" in page.raw and "Resend the e-mail" in page.text


async def test_the_radio_chart_has_axes_and_its_values_as_text(
    core: Core, browsers: BrowserFactory
) -> None:
    company = await make_company(core)
    await make_user(core, company, "boss@example.com", role=Role.ADMIN, language="fr")
    now = core.now()
    async with core.tx() as db:
        site = await add_monitored_site(db, company, now)
        device = Device(
            installation_id=site.id,
            url="io://1",
            label="Volet",
            protocol="io",
            rssi=40,
            updated_at=now,
        )
        db.add(device)
        await db.flush()
        for minutes, rssi in ((0, 80), (10, 25), (20, 40)):
            db.add(RadioSample(device_id=device.id, at=now + timedelta(minutes=minutes), rssi=rssi))
        site_id, device_id = site.id, device.id
    browser = await browsers.new()
    await browser.login("boss@example.com")
    page = await browser.get(f"/installations/{site_id}/devices/{device_id}")
    raw = html.unescape(page.raw)
    assert 'aria-describedby="radio-chart-summary"' in raw
    assert "Niveau radio (%)" in raw and ">100 %<" in raw and ">0 %<" in raw
    assert "minimum 25 %, maximum 80 %, dernière 40 %" in raw
    table = re.search(r"<details class=\"chart-values\">(.*?)</details>", raw, re.S)
    assert table is not None
    assert re.findall(r"<td>(\d+) %</td>", table.group(1)) == ["40", "25", "80"]
