"""The access page: a stolen session cannot guess the current password at length."""

from __future__ import annotations

from companion_server.core import Core
from tests.companion.helpers import (
    PASSWORD,
    BrowserFactory,
    FakeClock,
    PortalClient,
    make_company,
    make_user,
)

NEW = "a new password 42"


async def _change(browser: PortalClient, current: str) -> int:
    page = await browser.post(
        "/access", {"current": current, "password": NEW, "password_confirm": NEW}
    )
    if page.status == 429:
        assert "Trop de tentatives. Veuillez patienter quelques minutes" in page.text
        assert int(page.headers["Retry-After"]) > 0
    return page.status


async def test_current_password_guesses_are_throttled_per_session_and_account(
    browsers: BrowserFactory, core: Core, clock: FakeClock
) -> None:
    company = await make_company(core)
    await make_user(core, company, "pia@example.com", language="fr")
    stolen = await browsers.new()
    assert (await stolen.login("pia@example.com")).status == 303
    guesses = [await _change(stolen, f"guess {n} {n}") for n in range(6)]
    assert guesses == [400] * 5 + [429]
    # Over the limit, even the right password is not checked: nothing is learnt.
    assert await _change(stolen, PASSWORD) == 429
    # Another session of the same account: the account's own limit (10 an hour) remains.
    second = await browsers.new()
    assert (await second.login("pia@example.com")).status == 303
    assert [await _change(second, f"other {n} {n}") for n in range(6)] == [400] * 5 + [429]
    clock.advance(minutes=16)  # the session limits are over, the account's is not
    assert await _change(stolen, "one more guess") == 429
    for _ in range(3):  # an hour later, the session kept alive meanwhile
        clock.advance(minutes=15)
        assert (await stolen.get("/access")).status == 200
    # The owner can change the password again; the old one was never changed meanwhile.
    assert await _change(stolen, PASSWORD) == 303
    assert (await (await browsers.new()).login("pia@example.com", NEW)).status == 303
