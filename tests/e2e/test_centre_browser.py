"""The monitoring centre in a real browser: an intrusion from Home Assistant to a guard's report.

The portal runs as a process; a simulated Home Assistant (``tests/companion/ha.py``, in its
own event loop thread) links, subscribes with two contacts and raises an intrusion. The
operator, logged in with the queue open, sees the case appear without a reload, takes it,
walks it through no answer and messages to the wait, sees the countdown; the wait is moved
into the past in the database, the portal's own timer starts the second round and the page
follows; nobody again, a guard dispatched, the guard's report closes the case. Home
Assistant gets a ``centre_case`` for every step. The pages pass the checks at phone size.
"""

from __future__ import annotations

from datetime import timedelta
import json
import re
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from companion_server.core import Core
from companion_server.models import CentreCase, Role
from companion_server.registration.services import seed_registration
from tests.companion import centre_world as world, ha as sim
from tests.companion.ha import HomeAssistant
from tests.companion.helpers import make_user
from tests.e2e.conftest_portal import Portal, portal, run_with_browser
from tests.e2e.page_checks import VIEWPORTS, problems
from tests.e2e.portal_world import run_in_portal_db
from tests.e2e.test_portal_serv_e_go import LoopThread, loop_thread

__all__ = ["loop_thread", "portal"]

OPERATOR = "olga@alpes-domotique.example"
PASSWORD = "operator long secret"


async def _seed(core: Core) -> str:
    """A company with an operator and a registered box; the box's validation code."""
    reg = await seed_registration(core, pin=sim.PIN, company_name="Alpes Domotique")
    async with core.tx() as db:
        from companion_server.models import Company

        company = await db.get(Company, reg.company_id)
    assert company is not None
    await make_user(core, company, OPERATOR, role=Role.OPERATOR, name="Olga", password=PASSWORD)
    return reg.code


async def _wait_is_over(core: Core) -> None:
    """Move the open case 11 minutes into the past: its call-back wait is over."""
    shift = timedelta(minutes=11)

    def back(value: str) -> str:
        from datetime import datetime

        return (datetime.fromisoformat(value) - shift).isoformat()

    async with core.tx() as db:
        row = await db.scalar(select(CentreCase).where(CentreCase.closed_at.is_(None)))
        assert row is not None and row.deadline is not None
        record: dict[str, Any] = json.loads(row.record)
        record["opened_at"] = back(record["opened_at"])
        record["deadline"] = back(record["deadline"])
        for step in record["steps"]:
            step["at"] = back(step["at"])
        row.record = json.dumps(record)
        row.opened_at -= shift
        row.deadline -= shift


def _checked(page: Page, failures: list[str]) -> None:
    failures.extend(f"{page.url}: {p}" for p in problems(page))


def test_intrusion_walked_through_to_the_guard(portal: Portal, loop_thread: LoopThread) -> None:
    run_with_browser(lambda browser: _scenario(portal, browser, loop_thread))


def _scenario(portal: Portal, browser: Browser, loop_thread: LoopThread) -> None:
    code = run_in_portal_db(portal.database_url, _seed)
    context = browser.new_context(locale="en-US", viewport=VIEWPORTS["phone"])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    failures: list[str] = []

    async def make() -> HomeAssistant:
        return HomeAssistant(portal.url)

    ha = loop_thread.run(make())
    try:
        assert loop_thread.run(ha.link(code))[0] == 200
        loop_thread.run(ha.connect())
        loop_thread.run(ha.hello())
        loop_thread.run(ha.send(world.subscription()))
        loop_thread.run(ha.expect("ack"))

        page.goto(portal.url + "/login")
        page.get_by_label("E-mail address").fill(OPERATOR)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(r"/centre$"))
        expect(page.get_by_text("No open case.")).to_be_visible()
        _checked(page, failures)
        page.evaluate("window.__noReload = true")

        loop_thread.run(ha.send(world.alarm("intrusion")))
        loop_thread.run(ha.expect("ack"))
        opened = loop_thread.run(ha.expect("centre_case"))["payload"]
        link = page.get_by_role("link", name=re.compile(r"Intrusion #\d+"))
        expect(link).to_be_visible(timeout=15000)
        assert page.evaluate("window.__noReload") is True
        link.click()
        expect(page.get_by_role("link", name="+33612345678").first).to_be_visible()
        page.get_by_role("button", name="Take this case").click()
        expect(page.get_by_role("status")).to_contain_text("You are handling this case")
        _checked(page, failures)

        # Round 1: nobody answers, a message is left for each contact.
        for contact in ("Alice Martin", "Bob Durand"):
            expect(page.get_by_text(f"Call {contact}:")).to_be_visible()
            page.get_by_role("button", name="No answer", exact=True).click()
            page.get_by_role("button", name="Message left").click()
        expect(page.locator("#case-phase")).to_contain_text("Waiting for a call back")
        expect(page.locator(".countdown")).to_have_text(re.compile(r"^(9|10):\d\d$"))
        _checked(page, failures)

        # The wait is over: the portal's timer starts round 2 and the page follows.
        page.evaluate("window.__noReload = true")
        run_in_portal_db(portal.database_url, _wait_is_over)
        expect(page.locator("#case-phase")).to_contain_text("round 2", timeout=20000)
        expect(page.get_by_text("Second round of calls")).to_be_visible()
        assert page.evaluate("window.__noReload") is True

        # Round 2: still nobody. A guard is sent and reports.
        for _ in range(2):
            page.get_by_role("button", name="No answer", exact=True).click()
            page.get_by_role("button", name="Message left").click()
        expect(page.locator("#case-phase")).to_contain_text("Send a guard")
        page.get_by_role("button", name="Guard dispatched").click()
        expect(page.locator("#case-phase")).to_contain_text("Guard on the way")
        page.get_by_label(re.compile("Note")).fill("Back door forced; the police are on site.")
        page.get_by_role("button", name="The guard has finished: close the case").click()
        expect(page.locator("#case-outcome")).to_have_text("Checked by a guard")
        expect(page.get_by_text("Back door forced; the police are on site.")).to_be_visible()
        _checked(page, failures)

        frames = [opened] + [
            f["payload"] for f in loop_thread.run(ha.backlog()) if f["type"] == "centre_case"
        ]
        assert [f["seq"] for f in frames] == list(range(12))
        assert [f["last_action"] for f in frames][-3:] == [
            "message_left",
            "dispatch_guard",
            "guard_finished",
        ]
        assert frames[5]["actor"] == "timer" and frames[5]["round"] == 2
        assert (frames[-2]["guard"], frames[-1]["guard"], frames[-1]["outcome"]) == (
            "dispatched",
            "finished",
            "guard_checked",
        )
        page.goto(portal.url + "/centre")
        expect(page.get_by_text("No open case.")).to_be_visible()
    finally:
        loop_thread.run(ha.close())
        context.close()
    assert failures == []
    assert errors == []
