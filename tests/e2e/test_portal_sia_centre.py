"""The receiving centre page in Chromium: filled, with errors and a test result, at every size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from playwright.sync_api import Browser, expect

from companion_server.centre.sia import store
from companion_server.core import Core
from companion_server.models import Installation, SiaMessage, SiaState
from tests.companion.test_authz_matrix import ADMIN, World
from tests.e2e import portal_world
from tests.e2e.conftest_portal import Portal, demo_portal, run_with_browser
from tests.e2e.page_checks import VIEWPORTS, problems
from tests.portal_app import free_port

__all__ = ["demo_portal"]

PATH = "/company/alarm-centre"
LABEL = "Détecteur de mouvement du couloir de l'étage, côté jardin, près de la véranda"


def _centre_with_history(installation_id: int) -> Callable[[Core], Awaitable[None]]:
    async def job(core: Core) -> None:
        async with core.tx() as db:
            installation = await db.get(Installation, installation_id)
            assert installation is not None
            company_id = installation.company_id
        form = {
            "host": "alarm-receiver.centre-de-telesurveillance.example.com",
            "port": str(free_port()),
            "account": "1234ABCDEF",
            "receiver": "12",
            "line": "3",
            "key": "00112233445566778899AABBCCDDEEFF",
            "message_format": "ADM-CID",
        }
        await store.save_centre(core, company_id, form)
        # In the past, finished: the portal's own worker leaves them as they are.
        at = core.now() - timedelta(days=1)
        async with core.tx() as db:
            for number, (state, error) in enumerate(
                [
                    (SiaState.DELIVERED, None),
                    (SiaState.REJECTED, "nak"),
                    (SiaState.FAILED, "timeout"),
                    (SiaState.DELIVERED, None),
                ],
                start=1,
            ):
                db.add(
                    SiaMessage(
                        company_id=company_id,
                        installation_id=installation_id,
                        account="1234ABCDEF",
                        kind=("intrusion", "aggression", "tamper", "fire")[number - 1],
                        restore=number == 4,
                        device_label=LABEL,
                        occurred_at=at,
                        sequence=number,
                        attempts=number,
                        next_attempt_at=at,
                        state=state.value,
                        finished_at=at,
                        last_error=error,
                    )
                )

    return job


def test_centre_page_at_every_size(demo_portal: Portal) -> None:
    world: World = portal_world.run_in_portal_db(
        demo_portal.database_url, portal_world.matrix_world
    )
    installation_id = int(world.own["installation_id"])
    portal_world.run_in_portal_db(demo_portal.database_url, _centre_with_history(installation_id))
    run_with_browser(lambda browser: _check(demo_portal, browser, world))


def _check(portal: Portal, browser: Browser, world: World) -> None:
    failures: list[str] = []
    for size, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport, locale="en-US")
        cookie = {"name": "portal_session", "value": world.sessions[ADMIN], "url": portal.url}
        context.add_cookies([cookie])  # type: ignore[list-item]
        page = context.new_page()
        try:
            page.goto(portal.url + PATH)
            expect(page.locator("tr[data-message]")).to_have_count(4)
            failures.extend(f"{size} filled: {p}" for p in problems(page))
            box = page.locator("label.tap").bounding_box()
            assert box is not None and box["height"] >= 44, box
            # By keyboard: a wrong port, Enter, the error next to the field.
            page.locator("#f-port").fill("0")
            page.locator("#f-port").press("Enter")
            expect(page.locator("#e-port")).to_be_visible()
            expect(page.locator("#f-key")).to_have_value("")
            failures.extend(f"{size} errors: {p}" for p in problems(page))
            page.goto(portal.url + PATH)
            page.get_by_role("button", name="Send a test message").focus()
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_contain_text("could not be reached")
            failures.extend(f"{size} test: {p}" for p in problems(page))
        finally:
            context.close()
    assert failures == [], "\n".join(failures)
