"""Every page of the portal, in every state the crawl sets up, at desktop, tablet and phone size.

The crawl visits every GET page of the authorization matrix for each role (anonymous,
installer, administrator): a route added to the matrix is visited, and so checked, by
construction; the test fails if one of them never answers a page. Each page must pass
``page_checks.problems``: axe-core at WCAG 2.2 A/AA, no sideways scrolling, a one-line
remote-service bar, no focused element under a fixed or sticky one.
"""

from __future__ import annotations

from playwright.sync_api import Browser
import pytest

from tests.companion.test_authz_matrix import ADMIN, ANON, INSTALLER, TABLE, Row, World
from tests.e2e import portal_world
from tests.e2e.conftest_portal import Portal, demo_portal, run_with_browser
from tests.e2e.page_checks import VIEWPORTS, problems

__all__ = ["demo_portal"]

ROLES = (ANON, INSTALLER, ADMIN)
# Redirects, files and downloads: not pages to check.
NOT_PAGES = (
    "/",
    "/healthz",
    "/static",
    "/static/leaflet",
    "/installations/{installation_id}/documents/{document_id}",
)
# Pages whose query string shows another state of the same page.
VARIANTS = {
    "/installations/{installation_id}/remote/pair": ("?source=customer", "?source=installer")
}
LOCKED = ("/installations/{installation_id}", "/installations/{installation_id}/devices")
PAGES = tuple(
    row
    for row in TABLE
    if row.method == "GET"
    and not row.stream
    and row.route not in NOT_PAGES
    and not row.route.startswith("/api/")
)


def _expected(row: Row, role: str) -> int | str:
    expect = row.expect[role]
    return expect[0] if isinstance(expect, tuple) else expect


def _url(row: Row, world: World, rename: dict[str, str] | None = None) -> str:
    values = dict(world.own)
    values.update({key: values[source] for key, source in (rename or row.rename).items()})
    if row.token is not None:
        values["token"] = world.tokens_own[str(row.token)]
    return row.route.format(**values)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_page_at_every_size(demo_portal: Portal, size: str) -> None:
    run_with_browser(lambda browser: _crawl(demo_portal, browser, size))


def _crawl(portal: Portal, browser: Browser, size: str) -> None:
    world: World = portal_world.run_in_portal_db(portal.database_url, portal_world.matrix_world)
    installation_id = int(world.own["installation_id"])
    failures: list[str] = []
    visited: set[str] = set()
    console: list[str] = []
    contexts = {}
    for role in ROLES:
        context = browser.new_context(viewport=VIEWPORTS[size], locale="en-US")
        if role in world.sessions:
            cookie = {"name": "portal_session", "value": world.sessions[role], "url": portal.url}
            context.add_cookies([cookie])  # type: ignore[list-item]
        contexts[role] = context

    def visit(role: str, path: str, route: str, state: str) -> None:
        page = contexts[role].new_page()
        page.on(
            "console", lambda m: console.append(f"{path}: {m.text}") if m.type == "error" else None
        )
        try:
            response = page.goto(portal.url + path)
            assert response is not None
            if response.status != 200 or page.url != portal.url + path:
                failures.append(f"{state} {role} {path}: {response.status} at {page.url}")
                return
            visited.add(route)
            failures.extend(f"{size} {state} {role} {path}: {p}" for p in problems(page))
        finally:
            page.close()

    def crawl(
        state: str, roles: tuple[str, ...], rows: tuple[Row, ...], ok: tuple[int, ...]
    ) -> None:
        for row in rows:
            for role in roles:
                if _expected(row, role) not in ok:
                    continue
                path = _url(row, world)
                for variant in ("", *VARIANTS.get(row.route, ())):
                    visit(role, path + variant, row.route, state)

    try:
        crawl("matrix", ROLES, PAGES, (200,))
        # Locked tabs: a linked installation without Serv-e-go, a pending registration.
        tabs = tuple(
            row for row in PAGES if row.route.startswith("/installations/{installation_id}")
        )
        for key in ("linked_installation_id", "pending_installation_id"):
            for row in (row for row in tabs if row.route in LOCKED):
                path = _url(row, world, {"installation_id": key})
                visit(ADMIN, path, row.route, f"locked {key}")
        # A busy installation: a remote-service request waiting, then the window open.
        portal_world.run_in_portal_db(
            portal.database_url, lambda core: portal_world.busy(core, installation_id)
        )
        portal_world.run_in_portal_db(
            portal.database_url, lambda core: portal_world.request_window(core, installation_id)
        )
        crawl("requested", (ADMIN,), tabs, (200,))
        portal_world.run_in_portal_db(
            portal.database_url, lambda core: portal_world.open_window(core, installation_id)
        )
        crawl("open", (ADMIN,), tabs, (200, 409))
        portal_world.run_in_portal_db(
            portal.database_url, lambda core: portal_world.speak(core, "sk")
        )
        crawl("open sk", (ADMIN,), tabs, (200, 409))
    finally:
        for context in contexts.values():
            context.close()
    assert failures == [], "\n".join(failures)
    assert console == []
    assert visited == {row.route for row in PAGES}, "pages never checked"


BROKEN_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body>
<main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><div style="width: 2000px">wide</div>
<p style="height: 2000px"></p><button>Under the bar</button><p style="height: 30px"></p></main>
<div style="position: fixed; inset: auto 0 0 0; height: 120px; background: #fff">bar</div>
</body></html>"""


def test_the_checks_find_what_they_look_for() -> None:
    """A page with an image without text, sideways scrolling and a button under a fixed bar."""

    def scenario(browser: Browser) -> None:
        page = browser.new_page(viewport=VIEWPORTS["phone"])
        page.set_content(BROKEN_PAGE)
        found = problems(page)
        assert any(p.startswith("axe image-alt") for p in found), found
        assert any(p.startswith("the document is 2008 px wide") for p in found), found
        assert any("button 'Under the bar' is covered by div" in p for p in found), found
        page.close()

    run_with_browser(scenario)
