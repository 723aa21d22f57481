"""The installations work queue at 10,000 installations: time of a page, query plans.

Run: ``.venv/bin/python -m benchmarks.work_queue [--installations 10000] [--repeat 20]
[--database-url ...]`` (default: a temporary SQLite file).

One company, 10,000 linked installations of which one in ten is offline, one in twenty has
active alerts (several types) and one in fifty an open remote-service window; 50 installers
with 200 installations each. Each case calls the service function the page uses (one
transaction: the counts per filter, the page's keys, then the rows' details) and prints its
latency; the plans of the main queries are printed for SQLite. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
import tempfile
import time

from sqlalchemy import insert, text

from benchmarks.figures import report
from benchmarks.seed import seed_company
from benchmarks.serve import SECRET
from companion_server.core import Core, build_core
from companion_server.db import migrate
from companion_server.installations import queue
from companion_server.models import Alert, InstallationState, RemoteWindow, User
from companion_server.settings import Settings

ALERT_TYPES = ("battery_low", "fire", "device_offline", "tamper")


async def seed(core: Core, installations: int, installers: int) -> tuple[int, int]:
    """The company; returns the administrator's and the first installer's ids."""
    now = core.now()
    async with core.tx() as db:
        seeded = await seed_company(
            db, now, installations=installations, installers=installers, pending_every=25
        )
        ids = seeded.installation_ids
        await db.execute(
            insert(InstallationState),
            [
                {
                    "installation_id": i,
                    "monitoring": "granted",
                    "connected": n % 10 != 0,
                    "box_online": n % 13 != 0,
                }
                for n, i in enumerate(ids)
            ],
        )
        await db.execute(
            insert(Alert),
            [
                {
                    "installation_id": i,
                    "alert_id": f"{i}-{k}",
                    "type": ALERT_TYPES[k],
                    "active": True,
                    "at": now,
                    "received_at": now,
                }
                for n, i in enumerate(ids)
                if n % 20 == 0
                for k in range(1 + n % 3)
            ]
            # Cleared alerts: the history the counts must not read.
            + [
                {
                    "installation_id": i,
                    "alert_id": f"{i}-old{k}",
                    "type": "battery_low",
                    "active": False,
                    "at": now - timedelta(days=k + 1),
                    "received_at": now,
                }
                for i in ids
                for k in range(3)
            ],
        )
        await db.execute(
            insert(RemoteWindow),
            [
                {
                    "installation_id": i,
                    "state": "granted",
                    "kinds": '["reboot"]',
                    "hours": 2,
                    "until": now + timedelta(hours=2),
                    "requested_at": now,
                    "changed_at": now,
                }
                for n, i in enumerate(ids)
                if n % 50 == 0
            ],
        )
        return seeded.admin_id, seeded.installer_ids[0]


async def run(args: argparse.Namespace) -> None:
    url = args.database_url
    if url is None:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='work-queue-')}/bench.db"
    core = build_core(Settings(database_url=url, secret_key=SECRET, mail_worker=False))
    try:
        await migrate(core.engine)
        admin_id, installer_id = await seed(core, args.installations, args.installers)
        async with core.tx() as db:
            admin, installer = (
                await db.get_one(User, admin_id),
                await db.get_one(User, installer_id),
            )
        print(
            f"{args.installations} installations, {args.installers} installers, "
            f"{core.engine.dialect.name}"
        )
        first = await queue.work_queue(core, admin, queue.QueueQuery())
        print("counts per filter:", first.counts)
        # A page deep in the list: follow the cursors 100 pages (5,000 rows) in.
        after = None
        for _ in range(100):
            page = await queue.work_queue(core, admin, queue.QueueQuery(sort="name", after=after))
            after = page.next_after
        cases = {
            "admin, problems first": (admin, queue.QueueQuery()),
            "admin, offline": (admin, queue.QueueQuery(status="offline")),
            "admin, with alerts": (admin, queue.QueueQuery(status="alerts")),
            "admin, search e-mail": (admin, queue.QueueQuery(search="customer4242@")),
            "admin, search PIN": (admin, queue.QueueQuery(search="4242 4242")),
            "admin, by name, page 101": (admin, queue.QueueQuery(sort="name", after=after)),
            "installer (200), problems first": (installer, queue.QueueQuery()),
        }
        for name, (user, query) in cases.items():
            timings = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                await queue.work_queue(core, user, query)
                timings.append(time.perf_counter() - start)
            report(name, timings, width=32)
        if core.engine.dialect.name == "sqlite":
            async with core.engine.connect() as conn:
                for sql in (
                    "SELECT count(*) FROM alerts WHERE active = 1 AND installation_id = 1",
                    "SELECT id FROM installations WHERE company_id = 1 AND "
                    "(name > 'Installation 05000' OR (name = 'Installation 05000' AND id > 5001)) "
                    "ORDER BY name, id LIMIT 51",
                ):
                    plan = (await conn.execute(text("EXPLAIN QUERY PLAN " + sql))).all()
                    print(sql, "->", "; ".join(str(row[-1]) for row in plan))
    finally:
        await core.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--installations", type=int, default=10_000)
    parser.add_argument("--installers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
