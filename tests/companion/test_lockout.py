"""Lockout that strangers cannot abuse: the owner keeps their sessions and always recovers.

Clients come from distinct addresses through a trusted proxy (X-Forwarded-For), like an
owner and an attacker on the Internet.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
import pytest

from companion_server.accounts.operator import lock_account
from companion_server.app import create_app
from companion_server.core import Core
from companion_server.settings import Settings
from tests.companion.helpers import (
    BrowserFactory,
    FakeClock,
    PortalClient,
    last_link,
    mails,
    make_company,
    make_user,
)

OWNER_IP, ATTACKER_IP = "198.51.100.7", "203.0.113.66"
EMAIL = "olga@example.com"
LOCKED = (303, "/password/forgot?locked=1")


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    """The portal behind a proxy on 127.0.0.1, so that each client has its own address."""
    return create_app(settings.replace(trusted_proxies=("127.0.0.1",)), clock=clock)


async def _lock(attacker: PortalClient, email: str = EMAIL) -> list[tuple[int, str | None]]:
    return [
        ((page := await attacker.login(email, f"guess number {n}")).status, page.location)
        for n in range(3)
    ]


async def _reset(browser: PortalClient, link: str, password: str) -> int:
    page = await browser.post(link, {"password": password, "password_confirm": password})
    return page.status


async def test_lock_exhaust_reset_relock_and_the_owner_still_recovers(
    browsers: BrowserFactory, core: Core
) -> None:
    company = await make_company(core)
    await make_user(core, company, EMAIL)
    owner = await browsers.new(OWNER_IP)
    attacker = await browsers.new(ATTACKER_IP)
    assert (await owner.login(EMAIL)).status == 303

    # Lock: three wrong passwords from a stranger (the seed's rule stays).
    assert (await _lock(attacker))[-1] == LOCKED
    assert (await owner.get("/profile")).status == 200, "the owner's session must survive"
    # What the lock stops is a new login, even with the right password.
    laptop = await browsers.new(OWNER_IP)
    assert ((page := await laptop.login(EMAIL)).status, page.location) == LOCKED

    # The owner asks for a link from their own address...
    assert (await owner.post("/password/forgot", {"email": EMAIL})).status == 303
    owners_link = await last_link(core, EMAIL)

    # Exhaust: ...then the stranger asks for reset links until refused.
    statuses = [
        (await attacker.post("/password/forgot", {"email": EMAIL})).status for _ in range(11)
    ]
    assert statuses == [303] * 10 + [429]
    # The lock's mail, the owner's, two for the stranger's requests: their address's budget.
    assert len(await mails(core, EMAIL)) == 4

    # Reset: the owner's link still works, whatever was asked since.
    assert await _reset(owner, owners_link, "first new password") == 303
    assert (await owner.get("/profile")).status == 200
    assert (await (await browsers.new(OWNER_IP)).login(EMAIL, "first new password")).status == 303
    # Using one link voids the others (the stranger's requests mailed some to the owner).
    assert (await owner.get(await last_link(core, EMAIL))).status == 404

    # Re-lock: the stranger locks the account again at once...
    assert (await _lock(attacker))[-1] == LOCKED
    assert (await owner.get("/profile")).status == 200
    assert (await attacker.post("/password/forgot", {"email": EMAIL})).status == 429

    # ...and the owner recovers again, within the same hour.
    sent = len(await mails(core, EMAIL))
    assert (await owner.post("/password/forgot", {"email": EMAIL})).status == 303
    assert len(await mails(core, EMAIL)) == sent + 1
    assert await _reset(owner, await last_link(core, EMAIL), "second new password") == 303
    assert (await owner.get("/profile")).status == 200
    phone = await browsers.new(OWNER_IP)
    assert (await phone.login(EMAIL, "second new password")).location == "/installations"


async def test_an_operator_lock_still_ends_the_sessions(
    browsers: BrowserFactory, core: Core
) -> None:
    company = await make_company(core)
    await make_user(core, company, EMAIL)
    owner = await browsers.new(OWNER_IP)
    assert (await owner.login(EMAIL)).status == 303
    assert await lock_account(core, EMAIL, locked=True)
    page = await owner.get("/profile")
    assert page.status == 303 and page.location is not None
    assert page.location.startswith("/login")


async def test_unknown_addresses_answer_like_known_ones_across_midnight(
    browsers: BrowserFactory, core: Core, clock: FakeClock
) -> None:
    company = await make_company(core)
    await make_user(core, company, EMAIL)
    clock.now = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)
    visitor = await browsers.new(ATTACKER_IP)
    answers: dict[str, list[tuple[int, str | None]]] = {EMAIL: [], "nobody@example.com": []}
    for email, found in answers.items():
        for n in range(4):
            if n == 2:
                clock.now = datetime(2026, 3, 3, 0, 1, tzinfo=UTC)  # a new UTC day
            page = await visitor.login(email, f"guess number {n}")
            found.append((page.status, page.location))
        clock.now = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)
    assert answers[EMAIL] == answers["nobody@example.com"]
    assert answers[EMAIL][2:] == [LOCKED, LOCKED]
    # Days later, both are still "locked".
    clock.now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    later = await browsers.new("192.0.2.1")
    for email in answers:
        page = await later.login(email, "guess again")
        assert (page.status, page.location) == LOCKED, email
    # Reset requests: the same answers and the same limits for both.
    for email in answers:
        statuses = [
            (await later.post("/password/forgot", {"email": email})).status for _ in range(5)
        ]
        assert statuses == [303] * 5, email
    assert await mails(core, "nobody@example.com") == []
