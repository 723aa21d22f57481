"""The console's queue by pages of 50: today's order across pages, one company, any cursor.

The order is the one the queue always had, ``call_protocol.queue_key`` (aggression and fire,
intrusion, tamper; the oldest first) then the id, computed here from each case's record;
the database pages on its own urgency expression and must agree with it.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
import json
import re

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from companion_server.centre import console, queue_cursor, store
from companion_server.centre.call_protocol import PRIORITY, queue_key
from companion_server.centre.protocol_values import (
    HOME_ASSISTANT,
    Action,
    ActionKind,
    Actor,
    CaseKind,
)
from companion_server.core import Core
from companion_server.models import CentreCase, Company, Installation, Role
from tests.companion import centre_world as world
from tests.companion.helpers import PortalClient, make_company, make_user

# Kinds in an order that is neither the queue's nor its reverse.
KINDS = (CaseKind.TAMPER, CaseKind.FIRE, CaseKind.INTRUSION, CaseKind.AGGRESSION, CaseKind.FIRE)
# Steps some cases went through (by case number modulo 6): other phases, a duress, a wait
# for a call back (a deadline shown). Case 0 modulo 6 is still calling its first contact.
_UNANSWERED = ((ActionKind.NO_ANSWER, "operator"), (ActionKind.MESSAGE_LEFT, "operator"))
STEPS: dict[int, tuple[tuple[ActionKind, str], ...]] = {
    1: ((ActionKind.NO_ANSWER, "operator"),),
    2: _UNANSWERED,
    3: ((ActionKind.OWNER_DURESS, HOME_ASSISTANT),),
    4: ((ActionKind.IDENTIFIED, "operator"),),
    5: _UNANSWERED + _UNANSWERED,
}


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def _case(
    db: AsyncSession,
    company: Company,
    n: int,
    start: datetime,
    operator_id: int | None,
    *,
    name: str,
    steps: bool = True,
) -> CentreCase:
    """Case ``n``: its kind, age (four cases share each opening time), steps and holder."""
    now = start + timedelta(minutes=n // 4)
    site = Installation(company_id=company.id, name=name, status="linked", created_at=now)
    db.add(site)
    await db.flush()
    contacts = [world.contact(0), world.contact(1)]
    row, state = await store.open_new(
        db,
        company_id=company.id,
        installation_id=site.id,
        kind=KINDS[n % len(KINDS)],
        contacts=contacts,
        now=now,
    )
    for number, (kind, actor) in enumerate(STEPS.get(n % 6, ()) if steps else ()):
        at = now + timedelta(seconds=number + 1)
        assert operator_id is not None
        who: Actor = operator_id if actor == "operator" else "home_assistant"
        state = await store.write(db, row, state, Action(kind, who, at), store.Changes.none())
    if n % 3 == 0 and operator_id is not None:
        row.claimed_by_id, row.claimed_at = operator_id, now
    return row


async def _storm(core: Core) -> tuple[int, int, list[int]]:
    """120 open cases and 5 closed ones of Acme, 5 of a rival opened earlier.

    Returns the administrator, the operator and the open cases in today's queue order.
    """
    acme = await make_company(core, "Acme Installers")
    admin = await make_user(core, acme, "boss@acme.example", role=Role.ADMIN)
    olga = await make_user(core, acme, "olga@acme.example", role=Role.OPERATOR, name="Olga")
    rival = await make_company(core, "Rival")
    async with core.tx() as db:
        start = core.now() - timedelta(hours=2)
        for n in range(125):
            row = await _case(db, acme, n, start, olga.id, name=f"Site {n:03d}", steps=n < 120)
            if n >= 120:
                before = store.state_of(row)
                at = before.last_time + timedelta(seconds=30)
                cancel = Action(ActionKind.OWNER_CANCEL, HOME_ASSISTANT, at)
                await store.write(db, row, before, cancel, store.Changes.none())
        # Older and as urgent: first in the queue if they leaked into Acme's.
        for n in range(5):
            await _case(
                db, rival, n, core.now() - timedelta(days=1), None, name=f"Rival {n}", steps=False
            )
        rows = list(
            await db.scalars(
                select(CentreCase).where(
                    CentreCase.company_id == acme.id, CentreCase.closed_at.is_(None)
                )
            )
        )
    ordered = sorted(rows, key=lambda row: (*queue_key(store.state_of(row)), row.id))
    return admin.id, olga.id, [row.id for row in ordered]


def _cases(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-case="(\d+)">', page)]


async def test_queue_pages_keep_todays_order(client: PortalClient, core: Core) -> None:
    _, olga, expected = await _storm(core)
    assert len(expected) == 120
    # The mix covers every urgency, duress, a holder and other phases on several pages.
    async with core.tx() as db:
        rows = {row.id: row for row in await db.scalars(select(CentreCase))}
    phases = {"calling", "leaving_message", "identified", "guard_required", "waiting"}
    assert {rows[i].phase for i in expected} == phases
    assert await client.login("olga@acme.example") is not None
    seen: list[int] = []
    pages: list[str] = []
    url: str | None = "/centre"
    while url is not None:
        page = await client.get(url)
        assert page.status == 200
        pages.append(page.text)
        seen += _cases(page.text)
        found = re.search(r'href="(/centre\?after=[^"]+)" rel="next"', page.text)
        url = None if found is None else found.group(1).replace("&amp;", "&")
    assert [len(_cases(text)) for text in pages] == [50, 50, 20]
    assert seen == expected
    counts = {0: 0, 1: 0, 2: 0}
    for case_id in expected:
        counts[PRIORITY[CaseKind(rows[case_id].kind)]] += 1
    for text_ in pages:
        assert "Open cases: 120" in text_ and "Rival" not in text_
        assert f'data-urgency="0">Aggression and fire: {counts[0]}<' in text_
        assert f'data-urgency="2">Tamper: {counts[2]}<' in text_
    # What each row shows is still there: the holder ("you" for Olga), the duress.
    assert pages[0].count(">you<") == sum(1 for i in expected[:50] if rows[i].claimed_by_id == olga)
    assert "Duress" in "".join(pages) and "call back until" in "".join(pages)
    assert 'href="/centre">First page<' in pages[1] and "First page" not in pages[0]


async def test_another_company_sees_only_its_own(core: Core) -> None:
    acme_admin, _, _ = await _storm(core)
    async with core.tx() as db:
        rival = await db.scalar(select(Company).where(Company.name == "Rival"))
        assert rival is not None
        rival_cases = set(
            await db.scalars(select(CentreCase.id).where(CentreCase.company_id == rival.id))
        )
    assert len(rival_cases) == 5
    boss = await make_user(core, rival, "boss@rival.example", role=Role.ADMIN)
    page = await console.queue(core, boss.id)
    assert {item.id for item in page.items} == rival_cases
    assert (page.total, page.next_after) == (5, None)
    # Acme's cursor, given to the rival, pages the rival's cases only.
    first = await console.queue(core, acme_admin)
    assert first.next_after is not None and not rival_cases & {i.id for i in first.items}
    later = await console.queue(core, boss.id, first.next_after)
    assert {item.id for item in later.items} <= rival_cases


async def test_a_cursor_that_does_not_read_opens_the_first_page(
    client: PortalClient, core: Core
) -> None:
    _, _, expected = await _storm(core)
    assert await client.login("boss@acme.example") is not None
    cursors = (
        "nonsense",
        "%%%",
        "x" * 5000,
        _cursor(["9 2026-01-01T00:00:00+00:00", 1]),  # no such urgency
        _cursor(["-1 2026-01-01T00:00:00+00:00", 1]),
        _cursor(["0 not a time", 1]),
        _cursor(["0 2026-01-01T00:00:00", 1]),  # no time zone
        _cursor(["0", 1]),
        _cursor([0, 1]),
        _cursor(["0 2026-01-01T00:00:00+00:00", "1"]),
        _cursor(["0 2026-01-01T00:00:00+00:00", 1, 2]),
        _cursor({"a": 1}),
    )
    for cursor in cursors:
        page = await client.get("/centre", params={"after": cursor})
        assert page.status == 200, cursor
        assert _cases(page.text)[:3] == expected[:3], cursor
    # A cursor past the last case: an empty page, still 200.
    page = await client.get(
        "/centre", params={"after": _cursor(["3 9999-01-01T00:00:00+00:00", 1])}
    )
    assert page.status == 200 and _cases(page.text) == []


async def test_the_database_urgency_is_the_protocols(core: Core) -> None:
    acme = await make_company(core, "Acme Installers")
    async with core.tx() as db:
        db.info["start"] = core.now()
        for n, kind in enumerate(CaseKind):
            site = Installation(
                company_id=acme.id, name=f"S{n}", status="linked", created_at=core.now()
            )
            db.add(site)
            await db.flush()
            await store.open_new(
                db,
                company_id=acme.id,
                installation_id=site.id,
                kind=kind,
                contacts=[world.contact(0)],
                now=core.now(),
            )
        found = {
            kind: urgency
            for kind, urgency in (
                await db.execute(select(CentreCase.kind, queue_cursor.URGENCY))
            ).all()
        }
    assert found == {kind.value: PRIORITY[kind] for kind in CaseKind}


async def test_a_page_is_a_range_of_the_queue_index(core: Core) -> None:
    """The planners read the page from ``ix_centre_cases_queue``, with no sort of all cases."""
    admin_id, _, expected = await _storm(core)
    company_id = await world.company_of(core, admin_id)
    first = await console.queue(core, admin_id)
    start = queue_cursor.decode(first.next_after)
    assert start is not None
    # The page the console reads, as it reads it (joins included).
    query = console.queue_query(company_id, start).limit(console.QUEUE_PAGE + 1)
    async with core.engine.connect() as conn:
        sql = str(query.compile(conn.engine, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "postgresql":
            # A handful of rows: without this, a sequential scan is cheaper and chosen.
            await conn.execute(text("SET enable_seqscan = off"))
            plan = "\n".join((await conn.execute(text(f"EXPLAIN {sql}"))).scalars())
            assert "ix_centre_cases_queue" in plan and "Sort" not in plan, plan
        else:
            rows = await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
            plan = "\n".join(str(row[-1]) for row in rows)
            assert "ix_centre_cases_queue" in plan and "TEMP B-TREE" not in plan, plan
    assert expected
