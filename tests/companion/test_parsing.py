"""Strict numbers, PINs and return paths: Unicode digits and CR/LF are refused, never a 500."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestServer
import pytest
from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.errors import ValidationFailed
from companion_server.models import AuditEvent, Installation, Session
from companion_server.parsing import normalize_pin, parse_id, parse_int
from companion_server.registration.services import register_box
from companion_server.security import csrf
from tests.companion.conftest import SECRET
from tests.companion.ha import company_with_admin
from tests.companion.helpers import PASSWORD, PortalClient, make_company, make_user
from tests.companion.test_authz_matrix import ADMIN, World, build_world

# Superscript two, Arabic-Indic, Devanagari, fullwidth: str.isdigit() says yes to each.
UNICODE_DIGITS = ("²", "٣", "७", "\uff13", "¹²")


@pytest.mark.parametrize("raw", [*UNICODE_DIGITS, " 7", "7 ", "+7", "1_0", "", "7\n", "0x7", "x"])
def test_only_ascii_digits_are_numbers(raw: str) -> None:
    assert parse_int(raw, -100, 100) is None
    assert parse_id(raw) is None


def test_ranges_and_ids() -> None:
    assert parse_int("7", 1, 8) == 7
    assert parse_int("-5", 1, 8) is None
    assert parse_int("100", 1, 8) is None
    assert parse_int("-5", -10, 10) == -5
    assert parse_id("0") is None
    assert parse_id(str(2**31)) is None
    assert parse_id("9" * 5000) is None
    assert parse_id(None) is None


def test_pin_is_ascii_digits() -> None:
    assert normalize_pin("1234 5678 9012") == "1234-5678-9012"
    assert normalize_pin("123456789012") == "1234-5678-9012"
    arabic = "١٢٣٤-٥٦٧٨-٩٠١٢"  # the same PIN in Arabic-Indic digits
    assert normalize_pin(arabic) is None
    assert normalize_pin(arabic.replace("-", "")) is None


async def test_registering_a_box_with_unicode_digits_is_refused(core: Core) -> None:
    _, admin_id = await company_with_admin(core, "Acme Installers", "boss@acme.example")
    with pytest.raises(ValidationFailed) as err:
        await register_box(core, admin_id, pin="١٢٣٤-٥٦٧٨-٩٠١٢", customer_email="home@example.com")
    assert set(err.value.errors) == {"pin"}
    async with core.tx() as db:
        assert await db.scalar(select(func.count()).select_from(Installation)) == 0


async def _as_admin(
    http: aiohttp.ClientSession,
    base: str,
    world: World,
    method: str,
    path: str,
    data: dict[str, str] | None = None,
) -> tuple[int, str]:
    seed = world.sessions[ADMIN]
    if data is not None:
        data = {**data, "csrf_token": csrf.make_token(SECRET, seed)}
    async with http.request(
        method,
        base + path,
        data=data,
        headers={"Cookie": f"portal_session={seed}"},
        allow_redirects=False,
    ) as response:
        return response.status, await response.text()


@pytest.mark.parametrize("digit", ["²", "٣"])
async def test_unicode_digits_in_pages_and_forms_never_give_a_500(
    core: Core, server: TestServer, digit: str
) -> None:
    base = str(server.make_url("")).rstrip("/")
    world = await build_world(core, await core.passwords.hash(PASSWORD))
    own = world.own
    inst = own["installation_id"]
    cases: list[tuple[str, str, dict[str, str] | None, int]] = [
        ("GET", f"/installations?page={digit}", None, 200),
        ("GET", f"/installations/{digit}", None, 404),
        ("POST", f"/installations/{inst}/assignments", {"user_id": digit}, 404),
        ("POST", f"/installations/{inst}/alert-settings", {f"alert-{digit}-fire": "on"}, 303),
        ("POST", f"/installations/{inst}/remote-service", {"hours": digit}, 400),
        ("POST", f"/installations/{inst}/remote/pair", {"source": "x", "devices": digit}, 409),
        ("POST", f"/installations/{inst}/remote/pair", {"source": "x", "remote_id": digit}, 409),
        ("POST", "/team/step-down", {"successor_id": digit}, 409),
    ]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        answers = [
            (path, data, (await _as_admin(http, base, world, method, path, data))[0])
            for method, path, data, _ in cases
        ]
    assert answers == [(path, data, status) for _, path, data, status in cases]


@pytest.mark.parametrize("hours", ["-5", "100", "0", "9", "8.5"])
async def test_remote_service_duration_out_of_range_is_a_400(
    core: Core, server: TestServer, hours: str
) -> None:
    base = str(server.make_url("")).rstrip("/")
    world = await build_world(core, await core.passwords.hash(PASSWORD))
    path = f"/installations/{world.own['installation_id']}/remote-service"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        form = {"kinds": "reboot", "hours": hours}
        status, text = await _as_admin(http, base, world, "POST", path, form)
        assert (status, "The duration is 1 to 8 hours." in text) == (400, True)
        # A valid duration is still accepted (the world's customer, without a paid plan, pays
        # in advance: the administrator issues the advance and lets the work start first).
        advance = f"/installations/{world.own['installation_id']}/advance"
        estimate = {"remote_hours": "1", "city": "Paris", "country": "FR"}
        assert (await _as_admin(http, base, world, "POST", advance, estimate))[0] == 303
        waive = {"reason": "Duration check"}
        assert (await _as_admin(http, base, world, "POST", advance + "/override", waive))[0] == 303
        form = {"kinds": "reboot", "hours": "3"}
        status, _ = await _as_admin(http, base, world, "POST", path, form)
        assert status == 303


async def test_next_with_cr_lf_is_refused_before_the_login(
    client: PortalClient, core: Core
) -> None:
    company = await make_company(core)
    await make_user(core, company, "ada@example.com")
    await client.get("/login")
    page = await client.post(
        "/login",
        {"email": "ada@example.com", "password": PASSWORD, "next": "/x\r\nSet-Cookie: a=b"},
    )
    assert page.status == 400
    assert "The page to return to after login is invalid." in page.text
    async with core.tx() as db:
        assert await db.scalar(select(func.count()).select_from(Session)) == 0
        kinds = list(await db.scalars(select(AuditEvent.kind)))
    assert "login" not in kinds and "login_failed" not in kinds
    # The login page drops such a target instead of carrying it into its form.
    page = await client.get("/login?next=%2Fx%0D%0ALocation%3A%20evil")
    assert page.status == 200 and '<input type="hidden" name="next" value="">' in page.raw
    page = await client.post(
        "/login", {"email": "ada@example.com", "password": PASSWORD, "next": "/profile"}
    )
    assert (page.status, page.location) == (303, "/profile")
