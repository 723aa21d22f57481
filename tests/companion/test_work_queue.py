"""The installations list as a work queue: state, alerts, filters, search, keyset pages."""

from __future__ import annotations

from datetime import timedelta
import re

from sqlalchemy import event

from companion_server.core import Core
from companion_server.installations import queue
from companion_server.models import (
    Alert,
    Company,
    Device,
    Installation,
    InstallationAssignment,
    InstallationState,
    RemoteWindow,
    Role,
    User,
)
from companion_server.monitoring import services as monitoring
from tests.companion.helpers import PortalClient, make_company, make_user


async def _site(
    core: Core,
    company: Company,
    name: str,
    *,
    status: str = "linked",
    connected: bool = True,
    box_online: bool | None = True,
    monitoring_state: str = "granted",
    alerts: tuple[str, ...] = (),
    window: bool = False,
    pin: str | None = None,
    email: str | None = None,
) -> int:
    now = core.now()
    async with core.tx() as db:
        site = Installation(
            company_id=company.id,
            name=name,
            status=status,
            box_pin=pin,
            customer_email=email,
            created_at=now,
        )
        db.add(site)
        await db.flush()
        if status == "linked":
            db.add(
                InstallationState(
                    installation_id=site.id,
                    monitoring=monitoring_state,
                    connected=connected,
                    box_online=box_online,
                )
            )
        for number, kind in enumerate(alerts):
            db.add(
                Alert(
                    installation_id=site.id,
                    alert_id=f"{name}-{number}",
                    type=kind,
                    active=True,
                    at=now,
                    received_at=now,
                )
            )
        if window:
            db.add(
                RemoteWindow(
                    installation_id=site.id,
                    state="granted",
                    kinds='["reboot"]',
                    hours=2,
                    until=now + timedelta(hours=2),
                    requested_at=now,
                    changed_at=now,
                )
            )
        return site.id


async def _names(core: Core, user: User, **query: str) -> list[str]:
    page = await queue.work_queue(core, user, queue.QueueQuery(**query))
    return [row.installation.name for row in page.rows]


async def test_problems_first_filters_and_search(core: Core) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    await _site(core, company, "Fine", pin="1111-2222-3333", email="fine@example.com")
    await _site(core, company, "Battery", alerts=("battery_low", "fire", "battery_low"))
    await _site(core, company, "HA down", connected=False)
    await _site(core, company, "Box down", box_online=False)
    await _site(core, company, "Waiting", status="pending", email="wait@example.com")
    await _site(core, company, "Window", window=True)
    # Alerts of an installation whose customer revoked Serv-e-go are not shown.
    await _site(core, company, "Revoked", monitoring_state="revoked", alerts=("fire",))
    other = await make_company(core, "Other")
    await _site(core, other, "Not mine", connected=False)

    names = await _names(core, admin)
    assert names[0] == "Battery" and set(names[1:3]) == {"HA down", "Box down"}
    assert names[3] == "Waiting" and "Not mine" not in names and len(names) == 7
    page = await queue.work_queue(core, admin, queue.QueueQuery())
    battery = page.rows[0]
    assert battery.alerts == [("fire", 1), ("battery_low", 2)] and battery.alert_count == 3
    assert page.counts == {
        "all": 7,
        "problems": 4,
        "offline": 2,
        "alerts": 1,
        "pending": 1,
        "window": 1,
    }
    revoked = next(row for row in page.rows if row.installation.name == "Revoked")
    assert revoked.alerts == [] and not revoked.offline

    assert set(await _names(core, admin, status="offline")) == {"HA down", "Box down"}
    assert await _names(core, admin, status="alerts") == ["Battery"]
    assert await _names(core, admin, status="pending") == ["Waiting"]
    assert await _names(core, admin, status="window") == ["Window"]
    assert await _names(core, admin, search="FINE@") == ["Fine"]
    assert await _names(core, admin, search="222233") == ["Fine"]
    assert await _names(core, admin, search="2222-3333") == ["Fine"]
    assert await _names(core, admin, search="box d") == ["Box down"]
    assert await _names(core, admin, search="100%_") == []
    assert (await _names(core, admin, sort="name"))[:2] == ["Battery", "Box down"]


async def test_keyset_pages_are_stable_and_complete(core: Core) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    for number in range(queue.PAGE_SIZE + 20):
        await _site(core, company, f"Site {number:03}", connected=number % 3 != 0)
    for sort in queue.SORTS:
        seen: list[str] = []
        after = None
        while True:
            page = await queue.work_queue(core, admin, queue.QueueQuery(sort=sort, after=after))
            seen += [row.installation.name for row in page.rows]
            if page.next_after is None:
                break
            after = page.next_after
            # A new installation between two pages does not shift the rows that follow.
            await _site(core, company, f"Late {len(seen)}-{sort}", status="pending")
        originals = [name for name in seen if name.startswith("Site")]
        assert sorted(originals) == sorted(f"Site {n:03}" for n in range(queue.PAGE_SIZE + 20))
        assert len(originals) == len(set(originals)), sort
    # An unreadable or forged cursor is the first page, never an error.
    for cursor in ("", "!!", "W10", "WyJ4IiwgMV0", "x" * 500):
        page = await queue.work_queue(core, admin, queue.QueueQuery(after=cursor))
        assert len(page.rows) == queue.PAGE_SIZE


async def test_installers_see_only_their_installations(core: Core) -> None:
    company = await make_company(core)
    installer = await make_user(core, company, "ivan@example.com")
    mine = await _site(core, company, "Mine", connected=False)
    await _site(core, company, "Colleague's", connected=False)
    async with core.tx() as db:
        db.add(
            InstallationAssignment(
                installation_id=mine, user_id=installer.id, assigned_at=core.now()
            )
        )
    page = await queue.work_queue(core, installer, queue.QueueQuery())
    assert [row.installation.name for row in page.rows] == ["Mine"]
    assert page.counts["offline"] == 1


async def test_each_row_names_its_installers_by_name(core: Core) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    zoe = await make_user(core, company, "zoe@example.com", name="Zoé Martin")
    alice = await make_user(core, company, "alice@example.com", name='Alice "Al" O\'Neil')
    shared = await _site(core, company, "Shared")
    await _site(core, company, "Nobody's")
    async with core.tx() as db:
        for person in (zoe, alice):
            db.add(
                InstallationAssignment(
                    installation_id=shared, user_id=person.id, assigned_at=core.now()
                )
            )
    page = await queue.work_queue(core, admin, queue.QueueQuery(sort="name"))
    assignees = {row.installation.name: row.assignees for row in page.rows}
    assert [(p.id, p.name, p.email) for p in assignees["Shared"]] == [
        (alice.id, 'Alice "Al" O\'Neil', "alice@example.com"),
        (zoe.id, "Zoé Martin", "zoe@example.com"),
    ]
    assert assignees["Nobody's"] == []


async def test_the_list_costs_the_same_queries_for_5_or_150_installations(core: Core) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    async def measure() -> int:
        statements.clear()
        event.listen(core.engine.sync_engine, "before_cursor_execute", count)
        try:
            page = await queue.work_queue(core, admin, queue.QueueQuery())
        finally:
            event.remove(core.engine.sync_engine, "before_cursor_execute", count)
        assert page.rows
        return len(statements)

    for number in range(5):
        await _site(core, company, f"S{number}", alerts=("fire",), window=True)
    small = await measure()
    for number in range(145):
        await _site(core, company, f"L{number}", alerts=("tamper", "fire"), window=number % 2 == 0)
    # The bounded counts, then the page's keys with its rows, their alerts, window and
    # installers (the session's lookup is the middleware's).
    assert await measure() == small == 2


async def test_the_page_shows_the_queue(client: PortalClient, core: Core) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN, language="fr")
    await _site(core, company, "Villa", alerts=("battery_low",), window=True)
    await _site(core, company, "Chalet", connected=False, pin="1234-5678-9012")
    await client.login(admin.email)
    page = await client.get("/installations")
    assert page.status == 200
    rows = re.findall(r'data-installation="\d+"', page.raw)
    assert len(rows) == 2 and page.text.index("Villa") < page.text.index("Chalet")
    assert "1 active(s)" in page.text and "Pile faible" in page.text
    assert 'data-window="open"' in page.raw and "Home Assistant non connecté" in page.text
    page = await client.get("/installations?status=offline&q=5678")
    assert "Chalet" in page.text and "Villa" not in page.text
    assert (await client.get("/installations?status=nonsense&q=" + "x" * 300)).status == 200


async def test_devices_tab_lists_problems_first(core: Core) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    site = await _site(core, company, "Villa")
    now = core.now()
    async with core.tx() as db:
        for label, values in (
            ("A fine shutter", {"online": True, "rssi": 80}),
            ("B weak radio", {"online": True, "rssi": 12}),
            ("C battery", {"online": True, "battery": "verylow"}),
            ("D offline", {"online": False}),
            ("E percent", {"online": True, "battery": "15"}),
            ("F defect", {"online": True, "defect": "maintenanceRequired"}),
            ("G discrete", {"online": True, "rssi_level": "low"}),
        ):
            db.add(
                Device(
                    installation_id=site, url=f"io://{label}", label=label, updated_at=now, **values
                )
            )
    devices = await monitoring.devices(core, admin.id, site)
    assert [d.label for d in devices] == [
        "D offline",
        "F defect",
        "C battery",
        "E percent",
        "B weak radio",
        "G discrete",
        "A fine shutter",
    ]
