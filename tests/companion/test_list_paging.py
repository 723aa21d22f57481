"""Keyset pages of the portal's lists: cursors, the page size bound, the customers list."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import timedelta
import html
from pathlib import Path
import re
import secrets
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from companion_server.core import Core, build_core
from companion_server.customers import services as customers
from companion_server.customers.accounts import portal_company_id
from companion_server.db import migrate
from companion_server.errors import Forbidden
from companion_server.keyset import MAX_CURSOR, decode_cursor, encode_cursor
from companion_server.models import (
    Company,
    CustomerInstallation,
    Installation,
    InstallationAssignment,
    Registration,
    Role,
    User,
)
from companion_server.registration import services as registration
from tests.companion.conftest import fast_settings
from tests.companion.helpers import PortalClient, make_company, make_user

NEXT = re.compile(r'<a href="/customers\?after=([^"]+)" rel="next">')
NAMES = re.compile(r"<h2>([^<]+)</h2>")
NEXT_REQUESTS = re.compile(r'<a href="(/installations/registrations\?after=[^"]+)" rel="next">')
REQUEST = re.compile(r'<td data-label="Installation"><a href="/installations/\d+">([^<]+)</a>')


def test_a_cursor_reads_back_what_it_holds() -> None:
    long_name = "Ž" * 200  # the longest name, two bytes a character
    for key, row_id in ((long_name, 7), ("", 1), ("a\"b'c,", 2**31 - 1)):
        cursor = encode_cursor(key, row_id)
        assert len(cursor) < MAX_CURSOR and re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
        assert decode_cursor(cursor, str) == (key, row_id)
    assert decode_cursor(encode_cursor(42, 9), int) == (42, 9)


def test_an_unreadable_cursor_is_the_first_page() -> None:
    forged = [
        None,
        "",
        "!!",
        "W10",  # []
        "x" * (MAX_CURSOR + 1),
        encode_cursor("name", 1)[:-3],
        encode_cursor(5, 1),  # a number where a name is expected
    ]
    for cursor in forged:
        assert decode_cursor(cursor, str) is None, cursor
    assert decode_cursor(encode_cursor("name", 1), int) is None
    for raw in ('["a",true]', '["a","1"]', "[true,1]", '{"a":1}', '["a",1,2]', "null"):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        assert decode_cursor(cursor, str) is None, raw
        assert decode_cursor(cursor, int) is None, raw


async def _customers(core: Core, company: Company, names: list[str]) -> None:
    """One customer per name, each owning one new installation of ``company``."""
    now = core.now()
    async with core.tx() as db:
        portal = await portal_company_id(db, now)
        for name in names:
            user = User(
                company_id=portal,
                email=f"{secrets.token_hex(8)}@example.com",
                name=name,
                password_hash="x",
                role=Role.CUSTOMER.value,
                language="en",
                failed_logins=0,
                created_at=now,
            )
            site = Installation(company_id=company.id, name=f"Home of {name}", created_at=now)
            db.add_all([user, site])
            await db.flush()
            await db.execute(
                insert(CustomerInstallation),
                [{"customer_id": user.id, "installation_id": site.id, "created_at": now}],
            )


async def test_the_customers_list_pages_by_name_through_insertions(
    core: Core, client: PortalClient
) -> None:
    company = await make_company(core)
    rival = await make_company(core, "Rival Installers")
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    size = customers.PAGE_SIZE
    # Two customers share each name: the id breaks the tie, neither is lost nor repeated.
    originals = [f"Customer {n // 2:03}" for n in range(2 * size + 7)]
    await _customers(core, company, originals)
    await _customers(core, rival, ["Customer 000 of the rival"])
    await client.login(admin.email)
    seen: list[str] = []
    path = "/customers"
    while True:
        page = await client.get(path)
        assert page.status == 200
        names = [html.unescape(name) for name in NAMES.findall(page.text)]
        assert 0 < len(names) <= size
        assert names == sorted(names)
        seen += names
        found = NEXT.search(page.text)
        if found is None:
            break
        path = html.unescape(found.group(0).split('"')[1])
        # Customers arrive between two pages, before and after the page's end: the rows that
        # follow do not shift, the ones sorting after the cursor show up once.
        await _customers(core, company, [f"Aaron {len(seen)}", f"Zoe {len(seen)}"])
    assert [name for name in seen if name.startswith("Customer")] == sorted(originals)
    assert not [name for name in seen if name.startswith("Aaron")]
    assert [name for name in seen if name.startswith("Zoe")] == ["Zoe 100", "Zoe 50"]
    assert "rival" not in " ".join(seen)
    # A message refused on a later page shows that page again, the error by its customer.
    action = re.search(r'action="(/customers/(\d+)/messages\?after=[^"]+)"', page.text)
    assert action is not None
    refused = await client.post(html.unescape(action.group(1)), {"body": " "})
    assert refused.status == 400 and f'id="e-body-{action.group(2)}"' in refused.text
    # A page's customers each show the installations of the company they own.
    first = await customers.company_customers(core, admin)
    assert len(first.customers) == size
    assert first.customers[0].installations == (f"Home of {first.customers[0].name}",)
    # Only an administrator reads them, however the service is reached.
    installer = await make_user(core, company, "ivan@example.com", role=Role.INSTALLER)
    with pytest.raises(Forbidden):
        await customers.company_customers(core, installer)


async def test_a_forged_customers_cursor_opens_the_first_page(
    core: Core, client: PortalClient
) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    await _customers(core, company, ["Ada", "Bea"])
    await client.login(admin.email)
    for cursor in ("x", "W10", "%00", "x" * 5000, encode_cursor(3, 1)):
        page = await client.get(f"/customers?after={cursor}")
        assert page.status == 200, cursor
        assert NAMES.findall(page.text) == ["Ada", "Bea"]
    # Past the last customer: an empty page that leads back to the first one.
    page = await client.get(f"/customers?after={encode_cursor('Zzz', 10**6)}")
    assert page.status == 200 and NAMES.findall(page.text) == []
    assert '<a href="/customers">' in page.text


async def _requests(core: Core, company: Company, count: int, label: str) -> None:
    """``count`` pending installations, each with an open code (and one superseded before)."""
    now = core.now()
    async with core.tx() as db:
        for n in range(count):
            site = Installation(
                company_id=company.id, name=f"{label} {n:03}", status="pending", created_at=now
            )
            db.add(site)
            await db.flush()
            await db.execute(
                insert(Registration),
                [
                    {
                        "installation_id": site.id,
                        "email": "home@example.com",
                        "language": "en",
                        "code_hash": secrets.token_hex(32),
                        "created_at": now,
                        "expires_at": now + timedelta(days=1),
                        "superseded_at": superseded,
                        "failed_attempts": 0,
                    }
                    for superseded in (now, None)
                ],
            )


async def test_the_registration_requests_page_through_insertions(
    core: Core, client: PortalClient
) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    size = registration.PAGE_SIZE
    await _requests(core, company, 2 * size + 3, "Box")
    await client.login(admin.email)
    seen: list[str] = []
    path = "/installations/registrations"
    while True:
        page = await client.get(path)
        assert page.status == 200
        names = REQUEST.findall(page.text)
        assert 0 < len(names) <= size
        seen += names
        found = NEXT_REQUESTS.search(page.text)
        if found is None:
            break
        path = html.unescape(found.group(1))
        # Newer requests arrive meanwhile: they belong to the first page, not to the next.
        await _requests(core, company, 2, f"Late {len(seen)}")
    assert seen == [f"Box {n:03}" for n in reversed(range(2 * size + 3))]
    for forged in ("abc", "-1", "0", "99999999999", "1e3"):
        page = await client.get(f"/installations/registrations?after={forged}")
        assert page.status == 200 and REQUEST.findall(page.text)[0] == "Late 100 001"


async def test_an_installer_pages_through_the_requests_of_their_installations(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = await make_company(core)
    installer = await make_user(core, company, "fitter@example.com", role=Role.INSTALLER)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    await _requests(core, company, 7, "Box")
    await _requests(core, await make_company(core, "Other"), 3, "Theirs")
    async with core.tx() as db:
        sites = (await db.scalars(select(Installation).order_by(Installation.id))).all()
        for site in sites[::2]:
            db.add(
                InstallationAssignment(
                    installation_id=site.id, user_id=installer.id, assigned_at=core.now()
                )
            )
    # The statements are kept per shape: the administrator's first, then the installer's.
    for user, expected in ((admin, [6, 5, 4, 3, 2, 1, 0]), (installer, [6, 4, 2, 0])):
        for size in (2, 3):
            monkeypatch.setattr(registration, "PAGE_SIZE", size)
            seen: list[str] = []
            after = None
            while True:
                page = await registration.pending_requests(core, user, after)
                assert len(page.requests) <= size
                seen += [request.name for request in page.requests]
                if page.next_after is None:
                    break
                after = page.next_after
            assert seen == [f"Box {n:03}" for n in expected], (user.email, size)


async def _plans(core: Core, call: Callable[[], Awaitable[object]]) -> list[str]:
    """How SQLite runs each statement ``call`` sends (EXPLAIN QUERY PLAN)."""
    sent: list[tuple[str, Any]] = []

    def keep(*args: Any) -> None:
        sent.append((args[2], args[3]))

    event.listen(core.engine.sync_engine, "before_cursor_execute", keep)
    try:
        await call()
    finally:
        event.remove(core.engine.sync_engine, "before_cursor_execute", keep)
    async with core.engine.connect() as conn:
        return [
            " ".join(
                str(row[-1])
                for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            )
            for sql, params in sent
        ]


async def test_the_pages_read_their_indexes(tmp_path: Path) -> None:
    """SQLite, whose plans do not depend on table statistics (PostgreSQL's do: the benchmark
    ``lists_at_scale`` prints them at 10,000 and 100,000 installations)."""
    core = build_core(fast_settings(f"sqlite+aiosqlite:///{tmp_path}/plans.db"))
    try:
        await migrate(core.engine)
        company = await make_company(core)
        admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
        await _customers(core, company, ["Ada", "Bea"])
        await _requests(core, company, 2, "Box")
        cursor = encode_cursor("Ada", 1)
        plans = await _plans(core, lambda: customers.company_customers(core, admin, cursor))
        # The page is a range of the name index, not a walk over the company's rows...
        assert any("ix_users_name_id (name>?)" in plan for plan in plans), plans
        # ... and its installations are looked up by customer.
        assert any("customer_installations_1 (customer_id=?)" in plan for plan in plans), plans
        plans = await _plans(core, lambda: registration.pending_requests(core, admin, 10**6))
        assert any(
            "ix_installations_company_status (company_id=? AND status=?)" in p for p in plans
        )
    finally:
        await core.close()
