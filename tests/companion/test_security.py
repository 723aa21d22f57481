"""Sessions, cookies, CSRF, headers, rate limits, proxies and the audit log."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from companion_server.app import create_app
from companion_server.app_keys import CORE
from companion_server.core import Core
from companion_server.models import AuditEvent, Role, Session
from companion_server.security import csrf
from companion_server.settings import RateLimit, RateLimits, Settings
from tests.companion.conftest import SECRET, fast_settings
from tests.companion.helpers import (
    PASSWORD,
    BrowserFactory,
    FakeClock,
    PortalClient,
    mails,
    make_company,
    make_user,
)


async def _sessions(core: Core) -> int:
    async with core.tx() as db:
        return int(await db.scalar(select(func.count()).select_from(Session)) or 0)


async def _audit(core: Core, kind: str) -> list[AuditEvent]:
    async with core.tx() as db:
        return list(await db.scalars(select(AuditEvent).where(AuditEvent.kind == kind)))


async def test_session_cookie_is_rotated_at_login_and_flagged(
    client: PortalClient, core: Core
) -> None:
    company = await make_company(core)
    await make_user(core, company, "ada@example.com")
    await client.login("ada@example.com")
    first = client.cookie("portal_session")
    page = await client.login("ada@example.com")
    second = client.cookie("portal_session")
    assert first and second and first != second
    cookie_header = page.headers.getall("Set-Cookie")
    session_cookie = next(c for c in cookie_header if c.startswith("portal_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # plain HTTP here: see the HTTPS test
    assert await _sessions(core) == 1  # logging in again ended the previous session
    # The session token is stored hashed only.
    async with core.tx() as db:
        ids = list(await db.scalars(select(Session.id)))
    assert second not in ids


async def test_logout_ends_the_session(client: PortalClient, core: Core) -> None:
    company = await make_company(core)
    await make_user(core, company, "ada@example.com")
    await client.login("ada@example.com")
    token = client.cookie("portal_session")
    page = await client.post("/logout")
    assert (page.status, page.location) == (303, "/login")
    assert await _sessions(core) == 0
    # Replaying the old cookie gets nothing.
    replay = PortalClient(client.base_url)
    try:
        replay.session.cookie_jar.update_cookies({"portal_session": token or ""})
        page = await replay.get("/installations")
        assert page.status == 303 and page.location.startswith("/login")
    finally:
        await replay.close()
    assert await _audit(core, "logout")


async def test_idle_and_absolute_timeouts(
    client: PortalClient, core: Core, clock: FakeClock
) -> None:
    company = await make_company(core)
    await make_user(core, company, "ada@example.com")
    await client.login("ada@example.com")
    clock.advance(minutes=29)
    assert (await client.get("/profile")).status == 200
    clock.advance(minutes=31)
    page = await client.get("/profile")
    assert page.status == 303 and page.location == "/login?next=%2Fprofile"
    assert await _sessions(core) == 0
    # Absolute: active every 20 minutes, still ends after 12 hours.
    await client.login("ada@example.com")
    for _ in range(35):
        clock.advance(minutes=20)
        assert (await client.get("/profile")).status == 200
    clock.advance(minutes=21)
    assert (await client.get("/profile")).status == 303


async def test_csrf_missing_or_wrong_is_refused(client: PortalClient, core: Core) -> None:
    company = await make_company(core)
    await make_user(core, company, "ada@example.com", role=Role.ADMIN)
    # Anonymous forms too (login CSRF).
    page = await client.post(
        "/login", {"email": "ada@example.com", "password": PASSWORD}, csrf=False
    )
    assert page.status == 403
    await client.login("ada@example.com")
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": csrf.make_token(SECRET, "other")}):
        page = await client.post(
            "/team/invitations", {"email": "x@example.com", "language": "en", **data}, csrf=False
        )
        assert page.status == 403, data
        assert "did not come from this site" in page.text
    # The token of the visitor before login is not valid for the session after it.
    anonymous = PortalClient(client.base_url)
    try:
        await anonymous.get("/login")
        page = await client.post(
            "/team/invitations",
            {"email": "x@example.com", "language": "en", "csrf_token": anonymous.csrf or ""},
        )
        assert page.status == 403
    finally:
        await anonymous.close()
    page = await client.post("/team/invitations", {"email": "x@example.com", "language": "en"})
    assert page.status == 303
    assert len(await _audit(core, "csrf_rejected")) == 5
    # The header works for scripts.
    await client.get("/team")
    page = await client.request(
        "POST",
        "/team/invitations",
        data={"email": "y@example.com", "language": "en"},
        headers={"X-CSRF-Token": client.csrf or ""},
    )
    assert page.status == 303


async def test_no_state_change_on_get(client: PortalClient) -> None:
    for path in ("/logout", "/team/invitations", "/team/step-down", "/language"):
        page = await client.get(path)
        assert page.status == 405, path
        assert page.headers["Allow"] == "POST"


async def test_security_headers_everywhere(client: PortalClient) -> None:
    for path in ("/login", "/nowhere", "/static/portal.css", "/healthz"):
        page = await client.get(path)
        csp = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "aiohttp" not in page.headers["Server"]
        assert "Strict-Transport-Security" not in page.headers
    login = await client.get("/login")
    assert login.headers["Cache-Control"] == "no-store"
    # Scripts only from the portal's own files (the browser's time zone), never inline.
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", login.raw, re.S)
    assert re.findall(r"<script[^>]*>", login.raw) == ['<script src="/static/time_zone.js" defer>']
    assert scripts == [""] and " style=" not in login.raw and "<style" not in login.raw
    assert 'href="/static/portal.css"' in login.raw
    assert "http://" not in login.raw and "https://" not in login.raw  # no CDN


async def test_https_behind_a_trusted_proxy(database_url: str, clock: FakeClock) -> None:
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET,
        public_url="https://portal.example.com",
        trusted_proxies=("127.0.0.1",),
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        mail_worker=False,
    )
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    browsers = BrowserFactory(str(server.make_url("/")).rstrip("/"))
    try:
        core = server.app[CORE]
        company = await make_company(core)
        await make_user(core, company, "ada@example.com")
        client = await browsers.new()
        headers = {"X-Forwarded-For": "198.51.100.7, 127.0.0.1", "X-Forwarded-Proto": "https"}
        page = await client.get("/login", headers=headers)
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        cookies = page.headers.getall("Set-Cookie")
        assert any(c.startswith("__Host-portal_csrf=") and "Secure" in c for c in cookies)
        # aiohttp's client keeps Secure cookies for https only: send them by hand.
        seed = (
            next(c for c in cookies if c.startswith("__Host-portal_csrf="))
            .split(";")[0]
            .split("=", 1)[1]
        )
        page = await client.request(
            "POST",
            "/login",
            data={
                "email": "ada@example.com",
                "password": PASSWORD,
                "csrf_token": csrf.make_token(SECRET, seed),
            },
            headers={**headers, "Cookie": f"__Host-portal_csrf={seed}"},
        )
        assert page.status == 303
        session_cookie = next(
            c for c in page.headers.getall("Set-Cookie") if c.startswith("__Host-portal_session=")
        )
        assert "Secure" in session_cookie and "HttpOnly" in session_cookie
        login = (await _audit(core, "login"))[0]
        assert login.ip == "198.51.100.7"  # the client, not the proxy
    finally:
        await browsers.close()
        await server.close()


async def test_untrusted_forwarded_headers_are_ignored(client: PortalClient, core: Core) -> None:
    company = await make_company(core)
    await make_user(core, company, "ada@example.com")
    await client.get("/login")
    page = await client.request(
        "POST",
        "/login",
        data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": client.csrf or ""},
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
    )
    assert page.status == 303
    assert (await _audit(core, "login"))[0].ip == "127.0.0.1"
    assert "Secure" not in page.headers["Set-Cookie"]


async def test_login_rate_limit_per_ip(database_url: str, clock: FakeClock) -> None:
    settings = fast_settings(
        database_url,
        rate_limits=RateLimits(login_per_ip=RateLimit(5, 900)),
    )
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    browsers = BrowserFactory(str(server.make_url("/")).rstrip("/"))
    try:
        core = server.app[CORE]
        company = await make_company(core)
        await make_user(core, company, "ada@example.com")
        client = await browsers.new()
        # One address guesses from this IP: the accounts of others are not locked in bulk.
        for number in range(5):
            page = await client.login(f"victim{number}@example.com", "guess guess")
            assert page.status in (400, 303)
        page = await client.login("ada@example.com")
        assert page.status == 429
        assert int(page.headers["Retry-After"]) > 0
        assert "Too many attempts" in page.text
        assert await _audit(core, "rate_limited")
        clock.advance(minutes=16)
        assert (await client.login("ada@example.com")).status == 303
    finally:
        await browsers.close()
        await server.close()


async def test_reset_and_signup_mail_limits_per_address(client: PortalClient, core: Core) -> None:
    company = await make_company(core)
    await make_user(core, company, "ada@example.com")
    for _ in range(6):
        page = await client.post("/password/forgot", {"email": "ada@example.com"})
        assert page.status == 303  # same answer, but...
    assert len(await mails(core, "ada@example.com")) == 3  # ...no mail bombing
    for _ in range(6):
        await client.post("/password/forgot", {"email": "other@example.com"})
    page = await client.post("/password/forgot", {"email": "ada@example.com"})
    assert page.status == 429  # and at most 10 requests per IP and hour


async def test_signup_rate_limit_per_ip(client: PortalClient) -> None:
    statuses = []
    for number in range(11):
        page = await client.post(
            "/signup",
            {
                "company": "Spam",
                "name": "Spam",
                "email": f"spam{number}@example.com",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
                "language": "en",
            },
        )
        statuses.append(page.status)
    assert statuses == [303] * 10 + [429]


async def test_open_redirect_after_login_is_refused(client: PortalClient, core: Core) -> None:
    company = await make_company(core)
    await make_user(core, company, "ada@example.com")
    await client.get("/login")
    page = await client.post(
        "/login", {"email": "ada@example.com", "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert page.location == "/installations"
    await client.post("/logout")
    page = await client.post(
        "/login", {"email": "ada@example.com", "password": PASSWORD, "next": "/profile"}
    )
    assert page.location == "/profile"
