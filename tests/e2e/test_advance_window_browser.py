"""A window the homeowner opened in Home Assistant while their advance is due, in Chromium.

The installation's page says why the installer cannot act in it (a card, not the sticky
bar) and leads the administrator to the advance; the page passes the crawl's checks at
every size.
"""

from __future__ import annotations

from datetime import timedelta
import json

from playwright.sync_api import Browser, expect

from companion_server.core import Core
from companion_server.interventions.rules import OPEN
from companion_server.models import RemoteWindow
from tests.companion.billing_common import world
from tests.companion.helpers import PASSWORD
from tests.companion.interventions_common import ALL_KINDS
from tests.companion.invoicing_common import add_seller
from tests.e2e.conftest_portal import Portal, portal, run_with_browser
from tests.e2e.page_checks import VIEWPORTS, problems
from tests.e2e.portal_world import run_in_portal_db

__all__ = ["portal"]


async def _world(core: Core) -> tuple[str, int]:
    """A customer without a plan, the company invoicing, a window opened from Home Assistant."""
    w = await world(core)
    await add_seller(core, w.company.id)
    now = core.now()
    async with core.tx() as db:
        db.add(
            RemoteWindow(
                installation_id=w.installation.id,
                request_id=None,
                state=OPEN,
                kinds=json.dumps(ALL_KINDS),
                hours=2,
                until=now + timedelta(hours=2),
                requested_at=now,
                changed_at=now,
            )
        )
    return w.admin.email, w.installation.id


def test_a_held_window_says_why_at_every_size(portal: Portal) -> None:
    email, installation_id = run_in_portal_db(portal.database_url, _world)
    run_with_browser(lambda browser: _scenario(portal, browser, email, installation_id))


def _scenario(portal: Portal, browser: Browser, email: str, installation_id: int) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(portal.url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{portal.url}/installations/{installation_id}")
    banner = page.locator("#live-remote")
    expect(banner).to_have_attribute("data-remote", "held")
    expect(banner.locator('[data-advance="held"]')).to_contain_text(
        "remote actions wait until the advance invoice is issued and paid"
    )
    failures: list[str] = []
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        failures.extend(f"{size}: {problem}" for problem in problems(page))
    assert failures == []
    banner.get_by_role("link", name="Advance payment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Advance")
    context.close()
