"""The work queue's "window" filter and count, read from the company's open windows."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import Integer, String, column, insert, select, table, update

from companion_server.core import Core
from companion_server.installations import queue
from companion_server.models import InstallationAssignment, RemoteWindow, Role
from companion_server.models.base import UTCDateTime
from tests.companion.helpers import FakeClock, make_company, make_user
from tests.companion.test_migrations import _alembic
from tests.companion.test_work_queue import _site

# The table as revision 0023 has it (no company), as a portal of that revision writes it.
_WINDOWS_0023 = table(
    "remote_windows",
    column("installation_id", Integer),
    column("state", String),
    column("kinds", String),
    column("hours", Integer),
    column("until", UTCDateTime()),
    column("requested_at", UTCDateTime()),
    column("changed_at", UTCDateTime()),
)


async def _window(core: Core, installation_id: int, state: str, hours: float) -> None:
    """A window as a bulk statement writes it (no company given: the database fills it)."""
    now = core.now()
    async with core.tx() as db:
        await db.execute(
            insert(RemoteWindow).values(
                installation_id=installation_id,
                state=state,
                kinds='["reboot"]',
                hours=2,
                until=now + timedelta(hours=hours),
                requested_at=now,
                changed_at=now,
            )
        )


async def test_the_count_reads_the_companys_open_windows_only(core: Core, clock: FakeClock) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    fitter = await make_user(core, company, "fitter@example.com")
    opened = [await _site(core, company, f"Open {n}", window=True) for n in range(3)]
    # Two windows say open for one installation: it counts once.
    await _window(core, opened[0], "granted", 1)
    closed = await _site(core, company, "Closed")
    for state in ("expired", "revoked", "ended", "requested", "declined"):
        await _window(core, closed, state, 1)
    # Granted, but its end has passed (Home Assistant never said it expired).
    lapsed = await _site(core, company, "Lapsed")
    await _window(core, lapsed, "granted", -0.5)
    await _site(core, company, "Never")
    other = await make_company(core, "Other")
    for n in range(4):
        await _site(core, other, f"Theirs {n}", window=True)
    async with core.tx() as db:
        db.add(
            InstallationAssignment(
                installation_id=opened[1], user_id=fitter.id, assigned_at=core.now()
            )
        )
        db.add(
            InstallationAssignment(
                installation_id=closed, user_id=fitter.id, assigned_at=core.now()
            )
        )

    page = await queue.work_queue(core, admin, queue.QueueQuery(status="window"))
    assert page.counts["window"] == 3 and page.counts["all"] == 6
    assert sorted(row.installation.name for row in page.rows) == ["Open 0", "Open 1", "Open 2"]
    page = await queue.work_queue(core, fitter, queue.QueueQuery(status="window"))
    assert page.counts["window"] == 1
    assert [row.installation.name for row in page.rows] == ["Open 1"]
    # The other company's administrator sees their own four, never these.
    theirs = await make_user(core, other, "them@example.com", role=Role.ADMIN)
    page = await queue.work_queue(core, theirs, queue.QueueQuery(status="window"))
    assert page.counts["window"] == 4 and len(page.rows) == 4
    # One window ends early (revoked): out of the count; the others' end passes: none left.
    async with core.tx() as db:
        await db.execute(
            update(RemoteWindow)
            .where(RemoteWindow.installation_id == opened[2])
            .values(state="revoked")
        )
    page = await queue.work_queue(core, admin, queue.QueueQuery(status="window"))
    assert page.counts["window"] == 2
    clock.advance(hours=2, seconds=1)
    page = await queue.work_queue(core, admin, queue.QueueQuery())
    assert page.counts["window"] == 0
    assert [row.window_until for row in page.rows] == [None] * 6


async def test_every_window_gets_its_company_however_written(core: Core) -> None:
    """The ORM (as the portal writes) and a bulk statement without the column (as a portal of
    the previous revision writes): both stored with the installation's company."""
    company = await make_company(core)
    other = await make_company(core, "Other")
    mine = await _site(core, company, "Mine", window=True)
    theirs = await _site(core, other, "Theirs")
    await _window(core, theirs, "granted", 1)
    async with core.tx() as db:
        stored = (
            await db.execute(select(RemoteWindow.installation_id, RemoteWindow.company_id))
        ).all()
    assert sorted(stored) == sorted([(mine, company.id), (theirs, other.id)])


async def test_the_revision_fills_the_windows_written_before_it(core: Core) -> None:
    """Down to 0023, windows written without the column, up again: each has its company and
    counts in its company's queue."""
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    other = await make_company(core, "Other")
    mine = await _site(core, company, "Mine")
    theirs = await _site(core, other, "Theirs")
    async with core.engine.begin() as conn:
        await conn.run_sync(_alembic, command.downgrade, "0023")
    now = core.now()
    async with core.engine.begin() as conn:
        await conn.execute(
            insert(_WINDOWS_0023),
            [
                {
                    "installation_id": site,
                    "state": "granted",
                    "kinds": "[]",
                    "hours": 2,
                    "until": now + timedelta(hours=1),
                    "requested_at": now,
                    "changed_at": now,
                }
                for site in (mine, theirs)
            ],
        )
    async with core.engine.begin() as conn:
        await conn.run_sync(_alembic, command.upgrade, "head")
    async with core.tx() as db:
        stored = (
            await db.execute(select(RemoteWindow.installation_id, RemoteWindow.company_id))
        ).all()
    assert sorted(stored) == sorted([(mine, company.id), (theirs, other.id)])
    page = await queue.work_queue(core, admin, queue.QueueQuery(status="window"))
    assert page.counts["window"] == 1
    assert [row.installation.name for row in page.rows] == ["Mine"]
