"""The security log by pages of 50, newest first, by keyset on (time, id)."""

from __future__ import annotations

from datetime import timedelta
import re

from companion_server.core import Core
from companion_server.models import Role
from companion_server.security.audit import Event, record
from tests.companion.helpers import PortalClient, make_company, make_user


def _targets(text: str) -> list[str]:
    return re.findall(r"(t\d{3})@example\.com", text)


async def test_security_log_pages(client: PortalClient, core: Core) -> None:
    company = await make_company(core, "Acme Installers")
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    other = await make_company(core, "Rival")
    start = core.now() - timedelta(days=1)
    async with core.tx() as db:
        # 120 events; some share a time (the id orders them), one of another company.
        for n in range(120):
            await record(
                db,
                start + timedelta(seconds=n // 3),
                Event.PROFILE_CHANGED,
                company_id=company.id,
                target_email=f"t{n:03d}@example.com",
            )
        await record(db, start, Event.LOGIN, company_id=other.id, target_email="x@rival.example")
    assert (await client.login(admin.email)).status == 303
    seen: list[str] = []
    url: str | None = "/audit"
    while url is not None:
        page = await client.get(url)
        assert page.status == 200
        seen += _targets(page.text)
        found = re.search(r'href="(/audit\?after=[^"]+)" rel="next"', page.text)
        url = None if found is None else found.group(1)
    expected = [f"t{n:03d}" for n in range(119, -1, -1)]
    # The login of this test's administrator is newer than every event above: first page.
    assert seen == expected and "x@rival.example" not in page.text
    for cursor in ("nonsense", "WyJub3QgYSB0aW1lIiwxXQ", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwxXQ"):
        page = await client.get("/audit", params={"after": cursor})
        assert page.status == 200 and _targets(page.text)[:1] == ["t119"], cursor
