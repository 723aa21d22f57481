"""The work queue at scale: the stored attention score, pages per filter, bounded counts."""

from __future__ import annotations

from datetime import timedelta
import re

import pytest
from sqlalchemy import delete, select, update

from companion_server.core import Core
from companion_server.installations import queue, queue_rows
from companion_server.keyset import encode_cursor
from companion_server.models import (
    Alert,
    Installation,
    InstallationAssignment,
    InstallationState,
    Role,
    User,
)
from tests.companion.helpers import FakeClock, PortalClient, make_company, make_user
from tests.companion.test_work_queue import _site


async def _score(core: Core, installation_id: int) -> int:
    async with core.tx() as db:
        score = await db.scalar(
            select(Installation.attention).where(Installation.id == installation_id)
        )
        assert score is not None
        return score


async def test_the_database_keeps_the_score_whoever_writes(core: Core) -> None:
    """Written through the ORM or by a bulk statement, the facts rescore the installation."""
    company = await make_company(core)
    site = await _site(core, company, "Villa")
    assert await _score(core, site) == 0
    async with core.tx() as db:
        db.add(
            Alert(
                installation_id=site,
                alert_id="a1",
                type="fire",
                active=True,
                at=core.now(),
                received_at=core.now(),
            )
        )
    assert await _score(core, site) == 4
    async with core.tx() as db:
        await db.execute(update(InstallationState).values(connected=False))
    assert await _score(core, site) == 4 + 2
    async with core.tx() as db:
        await db.execute(update(Alert).where(Alert.installation_id == site).values(active=False))
    assert await _score(core, site) == 2
    async with core.tx() as db:
        await db.execute(
            update(InstallationState)
            .where(InstallationState.installation_id == site)
            .values(connected=True, box_online=False)
        )
    assert await _score(core, site) == 2
    # Without Serv-e-go the box's state is not known: not offline.
    async with core.tx() as db:
        state = await db.get(InstallationState, site)
        assert state is not None
        state.monitoring = "revoked"
    assert await _score(core, site) == 0
    async with core.tx() as db:
        await db.execute(
            update(Installation).where(Installation.id == site).values(status="unlinked")
        )
    assert await _score(core, site) == 1
    async with core.tx() as db:
        await db.execute(
            update(Installation).where(Installation.id == site).values(status="linked")
        )
        await db.execute(delete(InstallationState))
    # Linked and never heard of: Home Assistant is not connected.
    assert await _score(core, site) == 2
    async with core.tx() as db:
        await db.execute(delete(Alert))
        await db.execute(delete(Installation).where(Installation.id == site))


def _score_of(row: queue_rows.QueueRow) -> int:
    """The "problems first" weight from what the row shows (not from the stored score)."""
    return 4 * bool(row.alerts) + 2 * row.offline + (row.installation.status != "linked")


async def _expected(core: Core, user: User, status: str, sort: str) -> list[str]:
    """The queue as the previous, score-everything-per-request version ordered it."""
    page = await queue.work_queue(core, user, queue.QueueQuery(status="all"))
    assert page.next_after is None
    rows = page.rows
    kept = {
        "all": lambda r: True,
        "problems": lambda r: _score_of(r) > 0,
        "offline": lambda r: r.offline,
        "alerts": lambda r: bool(r.alerts),
        "pending": lambda r: r.installation.status == "pending",
        "window": lambda r: r.window_until is not None,
    }[status]
    chosen = [r for r in rows if kept(r)]
    key = {
        "problems": lambda r: (-_score_of(r), -r.installation.id),
        "name": lambda r: (r.installation.name, r.installation.id),
        "newest": lambda r: (-r.installation.id,),
    }[sort]
    return [r.installation.name for r in sorted(chosen, key=key)]


async def test_every_filter_and_order_pages_through_its_index_ranges(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    shapes: list[dict[str, object]] = [
        {},
        {"alerts": ("fire",)},
        {"alerts": ("tamper",), "connected": False},
        {"connected": False},
        {"box_online": False, "window": True},
        {"status": "pending"},
        {"status": "unlinked"},
        {"monitoring_state": "revoked", "alerts": ("fire",), "box_online": False},
        {"window": True},
    ]
    installer = await make_user(core, company, "fitter@example.com", role=Role.INSTALLER)
    for number in range(27):
        # Names out of step with the ids, so that each order differs.
        site = await _site(core, company, f"Site {(number * 7) % 27:02}", **shapes[number % 9])  # type: ignore[arg-type]
        if number % 4 != 1:
            async with core.tx() as db:
                db.add(
                    InstallationAssignment(
                        installation_id=site, user_id=installer.id, assigned_at=core.now()
                    )
                )
    other = await make_company(core, "Other")
    for number in range(9):
        await _site(core, other, f"Other {number}", **shapes[number])  # type: ignore[arg-type]
    expected_counts: dict[User, dict[str, int]] = {admin: {}, installer: {}}
    # Each shape's statement is kept after its first page; the page size is part of it.
    for size in (4, 5):
        for user in (admin, installer):
            for status in queue.FILTERS:
                for sort in queue.SORTS:
                    expected = await _expected(core, user, status, sort)
                    monkeypatch.setattr(queue, "PAGE_SIZE", size)
                    seen: list[str] = []
                    after = None
                    while True:
                        page = await queue.work_queue(
                            core, user, queue.QueueQuery(status=status, sort=sort, after=after)
                        )
                        assert len(page.rows) <= size
                        seen += [row.installation.name for row in page.rows]
                        if page.next_after is None:
                            break
                        after = page.next_after
                    monkeypatch.undo()
                    assert seen == expected, (user.email, status, sort)
                    expected_counts[user][status] = len(expected)
    assert len(await _expected(core, installer, "all", "name")) == 20
    installer_page = await queue.work_queue(core, installer, queue.QueueQuery())
    assert installer_page.counts == expected_counts[installer]
    expected_counts_admin = expected_counts[admin]
    page = await queue.work_queue(core, admin, queue.QueueQuery())
    assert page.counts == expected_counts_admin
    # A cursor past either end of the scores (written by hand): a page, never an error.
    # A search: its matches counted once (up to the bound), or the general way past it.
    for bound in (queue.COUNT_BOUND, 2):
        monkeypatch.setattr(queue, "COUNT_BOUND", bound)
        for status in queue.FILTERS:
            for sort in queue.SORTS:
                found = await queue.work_queue(
                    core, admin, queue.QueueQuery(search="SITE 1", status=status, sort=sort)
                )
                names = [row.installation.name for row in found.rows]
                expected = await _expected(core, admin, status, sort)
                assert names == [name for name in expected if name.startswith("Site 1")]
                if bound > 2:
                    assert found.counts[status] == len(names)
        monkeypatch.undo()
    # The window filter: its few installations looked up by id, or the general way past the
    # bound (the pages above read them by id).
    monkeypatch.setattr(queue, "COUNT_BOUND", 2)
    for user in (admin, installer):
        for sort in queue.SORTS:
            found = await queue.work_queue(core, user, queue.QueueQuery(status="window", sort=sort))
            names = [row.installation.name for row in found.rows]
            assert names == await _expected(core, user, "window", sort), (user.email, sort)
    monkeypatch.undo()
    offline = await _expected(core, admin, "offline", "problems")
    for key, names in ((-1, []), (99, offline)):
        found = await queue.work_queue(
            core, admin, queue.QueueQuery(status="offline", after=encode_cursor(key, 10**6))
        )
        assert [row.installation.name for row in found.rows] == names
    assert expected_counts_admin == {
        "all": 27,
        "problems": 18,
        "offline": 9,
        "alerts": 6,
        "pending": 3,
        "window": 6,
    }


async def test_counts_stop_at_their_bound(
    client: PortalClient, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    for number in range(5):
        await _site(core, company, f"Down {number}", connected=False)
    await _site(core, company, "Fine")
    monkeypatch.setattr(queue, "COUNT_BOUND", 4)
    page = await queue.work_queue(core, admin, queue.QueueQuery(status="offline"))
    assert page.counts["offline"] == 5 and page.shown("offline") == "4+"
    assert page.total == 5 and len(page.rows) == 5
    await client.login(admin.email)
    text = (await client.get("/installations?status=offline")).text
    assert re.search(r'data-filter="offline">[^<]*<span class="count">4\+</span>', text)
    assert 'data-filter="pending">Waiting for registration <span class="count">0</span>' in text
    assert "Installations: 4+" in text


async def test_a_window_closing_leaves_the_window_filter(core: Core, clock: FakeClock) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    await _site(core, company, "Open", window=True)
    page = await queue.work_queue(core, admin, queue.QueueQuery(status="window"))
    assert [row.installation.name for row in page.rows] == ["Open"]
    # The row's open window ends when it was granted for (an aware time, either database).
    assert page.rows[0].window_until == core.now() + timedelta(hours=2)
    clock.advance(hours=2, seconds=1)
    page = await queue.work_queue(core, admin, queue.QueueQuery(status="window"))
    assert page.rows == [] and page.counts["window"] == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_writers_of_one_installation_both_count(core: Core) -> None:
    """Two portal instances change one installation at once (PostgreSQL: SQLite has one
    writer at a time): whichever commits last scores what both committed."""
    company = await make_company(core)
    site = await _site(core, company, "Villa")
    now = core.now()
    async with core.tx() as first:
        first.add(
            Alert(
                installation_id=site,
                alert_id="a1",
                type="fire",
                active=True,
                at=now,
                received_at=now,
            )
        )
        await first.flush()
        async with core.tx() as second:
            await second.execute(
                update(InstallationState)
                .where(InstallationState.installation_id == site)
                .values(connected=False)
            )
        assert await _score(core, site) == 2  # the alert is not committed yet
    assert await _score(core, site) == 4 + 2
