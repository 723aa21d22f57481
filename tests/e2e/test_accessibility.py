"""Every page of the portal, in every state the crawl sets up, at desktop, tablet and phone size.

The crawl visits every GET page of the authorization matrix for each role (anonymous,
installer, operator, administrator, customer, the manufacturer's support): a route added to
the matrix is visited, and so checked, by construction; the test fails if one of them never
answers a page. Each page must pass
``page_checks.problems``: axe-core at WCAG 2.2 A/AA, no sideways scrolling, a one-line
remote-service bar, no focused element under a fixed or sticky one.

Each page loads once (at one of the three sizes in turn) and is checked at every size by
resizing the window: the portal's pages lay out by CSS alone (the remote bar's script
follows resizes), so a resized page is the page loaded at that size. Two browsers share the
pages of each state; one browser context per role, its session cookie set once, no log-in.

The crawl is split by page group (:data:`GROUPS`), one test case each, so that parallel
workers share it: each case crawls its pages through every state, on a portal of its own.
``test_the_groups_split_the_crawl_whole`` proves that the cases together make exactly the
visits of the whole crawl.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
import os
import queue
import string
import time
from typing import Final

from playwright.sync_api import Browser, Page
import pytest

from companion_server.core import Core
from tests.companion.test_authz_matrix import (
    ADMIN,
    ANON,
    CUSTOMER,
    INSTALLER,
    OPERATOR,
    SUPPORT,
    TABLE,
    Row,
    World,
)
from tests.e2e import portal_world
from tests.e2e.conftest_portal import Portal, demo_portal, run_with_browser
from tests.e2e.page_checks import VIEWPORTS, problems

__all__ = ["demo_portal"]

ROLES = (ANON, INSTALLER, OPERATOR, ADMIN, CUSTOMER, SUPPORT)
SIZES = tuple(VIEWPORTS)
WORKERS = max(1, min(2, os.cpu_count() or 1))
# Redirects, files and downloads: not pages to check here.
NOT_PAGES = (
    "/",
    "/healthz",
    "/metrics",
    "/static",
    "/static/leaflet",
    "/installations/{installation_id}/documents/{document_id}",
    "/invoices/export",
    "/invoices/{invoice_id}/pdf",
    "/my-invoices/{invoice_id}/pdf",
    # Stripe's return after saving a card: it redirects, it shows nothing of its own.
    "/my-invoices/payment-method/card/done",
)
# Without a cart these answer 400 (the matrix's row): the "cart" stage gives them one.
CART = "?cart=recording_7d"
CART_ROUTES = (
    "/customer/services/{installation_id}/summary",
    "/customer/services/{installation_id}/pay",
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
    and row.route not in CART_ROUTES
    and not row.route.startswith("/api/")
)
CART_PAGES = tuple(row for row in TABLE if row.method == "GET" and row.route in CART_ROUTES)
TABS = tuple(row for row in PAGES if row.route.startswith("/installations/{installation_id}"))
ROUTES = frozenset(row.route for row in PAGES + CART_PAGES)
# The crawl's cases: a route belongs to the first group with one of its prefixes (the route
# itself or a parent of it); the last group takes every route no other group names, so a
# route added to the matrix is crawled by construction. Sized for about as many visits each.
_INSTALLATION = "/installations/{installation_id}"
_PREFIXES: Final = (
    # An installation's tabs are crawled in four more states (locked, requested, open, in
    # Slovak) with a busy installation behind them: the heaviest pages, in smaller groups.
    ("installation remote service", (f"{_INSTALLATION}/remote",)),
    (
        "installation records and files",
        tuple(f"{_INSTALLATION}/{tab}" for tab in ("tickets", "records", "documents", "advance")),
    ),
    (
        "installation alerts and interventions",
        tuple(
            f"{_INSTALLATION}/{tab}"
            for tab in ("alerts", "alert-settings", "interventions", "resend")
        ),
    ),
    ("installations", ("/installations",)),
    (
        "sign-up and invitations",
        ("/signup", "/confirm", "/invitation", "/customer-invitation", "/login"),
    ),
    ("password, profile and access", ("/password", "/profile", "/access", "/demo")),
)
REST = "every other page"


def _under(route: str, prefix: str) -> bool:
    return route == prefix or route.startswith(prefix + "/")


def _named_group(route: str) -> str | None:
    return next(
        (name for name, prefixes in _PREFIXES if any(_under(route, p) for p in prefixes)), None
    )


GROUPS: Final = {
    **{
        name: frozenset(route for route in ROUTES if _named_group(route) == name)
        for name, _ in _PREFIXES
    },
    REST: frozenset(route for route in ROUTES if _named_group(route) is None),
}


@dataclass(frozen=True)
class Visit:
    state: str
    role: str
    path: str
    route: str
    first_size: int  # the size the page loads at; the others follow by resizing


def _expected(row: Row, role: str) -> int | str:
    expect = row.expect[role]
    return expect[0] if isinstance(expect, tuple) else expect


def _url(row: Row, world: World, rename: dict[str, str] | None = None) -> str:
    values = dict(world.own)
    values.update({key: values[source] for key, source in (rename or row.rename).items()})
    if row.token is not None:
        values["token"] = world.tokens_own[str(row.token)]
    return row.route.format(**values)


def _visits(
    world: World, state: str, roles: tuple[str, ...], rows: tuple[Row, ...], ok: tuple[int, ...]
) -> list[Visit]:
    paths = [
        (role, _url(row, world) + variant, row.route)
        for row in rows
        for role in roles
        if _expected(row, role) in ok
        for variant in ("", *VARIANTS.get(row.route, ()))
    ]
    return [Visit(state, *path, n % len(SIZES)) for n, path in enumerate(paths)]


Move = Callable[[Core], Awaitable[None]]


def _plan(world: World, routes: frozenset[str]) -> list[tuple[tuple[Move, ...], list[Visit]]]:
    """The visits of each state of the portal to ``routes``, each after the moves to it."""
    installation_id = int(world.own["installation_id"])
    pages = tuple(row for row in PAGES if row.route in routes)
    cart_pages = tuple(row for row in CART_PAGES if row.route in routes)
    tabs = tuple(row for row in TABS if row.route in routes)
    # Locked tabs: a linked installation without Serv-e-go, a pending registration.
    locked = [
        (f"locked {key}", _url(row, world, {"installation_id": key}), row.route)
        for key in ("linked_installation_id", "pending_installation_id")
        for row in tabs
        if row.route in LOCKED
    ]

    async def busy(core: Core) -> None:
        await portal_world.busy(core, installation_id)

    async def request_window(core: Core) -> None:
        await portal_world.request_window(core, installation_id)

    async def open_window(core: Core) -> None:
        await portal_world.open_window(core, installation_id)

    async def speak_slovak(core: Core) -> None:
        await portal_world.speak(core, "sk")

    return [
        ((), _visits(world, "matrix", ROLES, pages, (200,))),
        # The summary and the payment form of a recording the customer has not taken yet.
        (
            (),
            [
                Visit("cart", CUSTOMER, _url(row, world) + CART, row.route, n % len(SIZES))
                for n, row in enumerate(cart_pages)
            ],
        ),
        (
            (),
            [
                Visit(state, ADMIN, path, route, n % len(SIZES))
                for n, (state, path, route) in enumerate(locked)
            ],
        ),
        # A busy installation: a remote-service request waiting, then the window open.
        ((busy, request_window), _visits(world, "requested", (ADMIN,), tabs, (200,))),
        ((open_window,), _visits(world, "open", (ADMIN,), tabs, (200, 409))),
        ((speak_slovak,), _visits(world, "open sk", (ADMIN,), tabs, (200, 409))),
    ]


def _stages(portal: Portal, world: World, routes: frozenset[str]) -> Iterator[list[Visit]]:
    """The visits of each state, the portal's database moved on between them."""
    plan = _plan(world, routes)
    while plan and not plan[-1][1]:
        plan.pop()  # no visit left: the moves to those states would serve nothing
    for moves, visits in plan:
        for move in moves:
            portal_world.run_in_portal_db(portal.database_url, move)
        yield visits


@dataclass
class Crawl:
    """What the browsers found; the visits still to make."""

    portal: Portal
    world: World
    jobs: queue.Queue[Visit | None]
    failures: list[str]
    console: list[str]
    visited: set[str]

    def browse(self, browser: Browser) -> None:
        """One browser: one page per role, taking visits until told to stop."""
        pages: dict[str, Page] = {}
        where = {"path": ""}
        try:
            for role in ROLES:
                context = browser.new_context(viewport=VIEWPORTS[SIZES[0]], locale="en-US")
                if role in self.world.sessions:
                    cookie = {
                        "name": "portal_session",
                        "value": self.world.sessions[role],
                        "url": self.portal.url,
                    }
                    context.add_cookies([cookie])  # type: ignore[list-item]
                pages[role] = page = context.new_page()
                page.on(
                    "console",
                    lambda m: (
                        self.console.append(f"{where['path']}: {m.text}")
                        if m.type == "error"
                        else None
                    ),
                )
            while (visit := self.jobs.get()) is not None:
                where["path"] = visit.path
                try:
                    self.check(pages[visit.role], visit)
                except Exception as error:  # reported with its page; the crawl goes on
                    self.failures.append(f"{visit.state} {visit.role} {visit.path}: {error!r}")
                finally:
                    self.jobs.task_done()
        finally:
            for page in pages.values():
                page.context.close()

    def check(self, page: Page, visit: Visit) -> None:
        sizes = SIZES[visit.first_size :] + SIZES[: visit.first_size]
        page.set_viewport_size(VIEWPORTS[sizes[0]])  # type: ignore[arg-type]
        response = page.goto(self.portal.url + visit.path)
        assert response is not None
        if response.status != 200 or page.url != self.portal.url + visit.path:
            self.failures.append(
                f"{visit.state} {visit.role} {visit.path}: {response.status} at {page.url}"
            )
            return
        self.visited.add(visit.route)
        for size in sizes:
            page.set_viewport_size(VIEWPORTS[size])  # type: ignore[arg-type]
            # Two frames: the resize laid out, and the bar's ResizeObserver has run.
            page.evaluate(
                "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            self.failures.extend(
                f"{size} {visit.state} {visit.role} {visit.path}: {p}" for p in problems(page)
            )


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_page_at_every_size(demo_portal: Portal, group: str) -> None:
    routes = GROUPS[group]
    world: World = portal_world.run_in_portal_db(
        demo_portal.database_url, portal_world.matrix_world
    )
    crawl = Crawl(demo_portal, world, queue.Queue(), [], [], set())
    with ThreadPoolExecutor(WORKERS) as pool:
        browsers = [pool.submit(run_with_browser, crawl.browse) for _ in range(WORKERS)]
        try:
            for visits in _stages(demo_portal, world, routes):
                for visit in visits:
                    crawl.jobs.put(visit)
                _wait(crawl.jobs, browsers)
        finally:
            for _ in browsers:
                crawl.jobs.put(None)
        for browser in browsers:
            browser.result()
    assert crawl.failures == [], "\n".join(crawl.failures)
    assert crawl.console == []
    assert crawl.visited == routes, "pages never checked"


def _placeholder_world() -> World:
    """A world whose every identifier is a number: enough to plan the visits."""
    fields = {
        name
        for row in PAGES + CART_PAGES
        for _, name, _, _ in string.Formatter().parse(row.route)
        if name
    }
    own = {name: str(n) for n, name in enumerate(sorted(fields), start=1)}
    own.update(linked_installation_id="91", pending_installation_id="92")
    tokens = {str(row.token): f"token-{row.token}" for row in TABLE if row.token is not None}
    return World(sessions={}, own=own, other={}, tokens_own=tokens)


def test_the_groups_split_the_crawl_whole() -> None:
    """Every page of the crawl is in exactly one group; together they make every visit once."""
    assert all(GROUPS.values()), "a group without pages"
    for route in ROUTES:
        assert len([name for name, routes in GROUPS.items() if route in routes]) == 1, route
    assert sum(len(routes) for routes in GROUPS.values()) == len(ROUTES)
    assert frozenset().union(*GROUPS.values()) == ROUTES

    def visits(routes: frozenset[str]) -> list[tuple[str, str, str, str]]:
        return [
            (v.state, v.role, v.path, v.route) for _, stage in _plan(world, routes) for v in stage
        ]

    world = _placeholder_world()
    whole = visits(ROUTES)
    split = [visit for routes in GROUPS.values() for visit in visits(routes)]
    assert len(whole) > len(ROUTES)  # every role and state, not one visit a page
    assert sorted(split) == sorted(whole)
    assert len(set(split)) == len(split)


def _wait(jobs: queue.Queue[Visit | None], browsers: list[Future[None]]) -> None:
    """Until every visit of this state is made (a browser that died fails the test)."""
    while jobs.unfinished_tasks:
        for browser in browsers:
            if browser.done():
                browser.result()
                raise AssertionError("a browser stopped before the crawl ended")
        time.sleep(0.05)


BROKEN_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body>
<main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><div style="width: 2000px">wide</div>
<p style="height: 2000px"></p><button>Under the bar</button><p style="height: 30px"></p></main>
<div style="position: fixed; inset: auto 0 0 0; height: 120px; background: #fff">bar</div>
</body></html>"""

# A fixed header and a fixed bar over tab stops and over elements that are none (not
# focusable by Tab, disabled, in a closed panel, a radio button not chosen in its group):
# only the tab stops under them count, in tab order (a positive tabindex first).
HIDDEN_STOPS_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Covered</title></head><body>
<header style="position: fixed; inset: 0 0 auto 0; height: 60px; background: #fff">Header</header>
<main style="padding-top: 20px">
<a href="#a" id="under-header">Under the header</a>
<p style="margin-top: 80px"><a href="#b">In the clear</a></p>
<details><summary>More</summary><a href="#c">In a closed panel</a></details>
<p style="height: 1500px"></p>
<button tabindex="-1">Not a tab stop</button>
<button disabled>Disabled</button>
<input type="radio" name="choice" value="1" aria-label="First choice">
<input type="radio" name="choice" value="2" aria-label="Second choice" checked>
<button id="last">Last under the bar</button>
<button id="first" tabindex="1">First stop under the bar</button>
</main>
<div id="bar" style="position: fixed; inset: auto 0 0 0; height: 200px; background: #eee">bar</div>
</body></html>"""


def test_the_checks_find_what_they_look_for() -> None:
    """Planted faults: each check reports its own, and only the tab stops count."""

    def scenario(browser: Browser) -> None:
        page = browser.new_page(viewport=VIEWPORTS["phone"])
        page.set_content(BROKEN_PAGE)
        found = problems(page)
        assert any(p.startswith("axe image-alt") for p in found), found
        assert any(p.startswith("the document is 2008 px wide") for p in found), found
        assert any("button 'Under the bar' is covered by div" in p for p in found), found
        page.set_content(HIDDEN_STOPS_PAGE)
        covered = [p for p in problems(page) if p.startswith("focused ")]
        assert covered == [
            "focused button#first 'First stop under the bar' is covered by div#bar 'bar'",
            "focused a#under-header 'Under the header' is covered by header 'Header'",
            "focused input 'Second choice' is covered by div#bar 'bar'",
            "focused button#last 'Last under the bar' is covered by div#bar 'bar'",
        ], covered
        page.close()

    run_with_browser(scenario)
