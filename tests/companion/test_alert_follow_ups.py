"""Alerts followed up: acknowledged, given to a member; checked on the server, logged."""

from __future__ import annotations

from sqlalchemy import select

from companion_server.core import Core
from companion_server.models import (
    Alert,
    AlertFollowUp,
    Company,
    InstallationAssignment,
    InterventionEntry,
    Role,
)
from tests.companion.helpers import PortalClient, add_monitored_site, make_company, make_user


async def _site(core: Core, company: Company, *assigned: int) -> tuple[int, int]:
    now = core.now()
    async with core.tx() as db:
        site = await add_monitored_site(db, company, now)
        alert = Alert(
            installation_id=site.id,
            alert_id="a1",
            device_label="Kitchen sensor",
            type="battery_low",
            active=True,
            at=now,
            received_at=now,
        )
        db.add(alert)
        for user_id in assigned:
            db.add(
                InstallationAssignment(installation_id=site.id, user_id=user_id, assigned_at=now)
            )
        await db.flush()
        return site.id, alert.id


async def _follow_up(core: Core, alert_id: int) -> AlertFollowUp | None:
    async with core.tx() as db:
        return await db.get(AlertFollowUp, alert_id)


async def _log(core: Core, site: int) -> list[tuple[str, bool, str | None]]:
    async with core.tx() as db:
        rows = await db.execute(
            select(InterventionEntry.kind, InterventionEntry.private, InterventionEntry.actor_name)
            .where(InterventionEntry.installation_id == site)
            .order_by(InterventionEntry.id)
        )
        return [tuple(row) for row in rows.tuples()]  # type: ignore[misc]


async def test_acknowledge_and_assign(browsers, core: Core) -> None:  # type: ignore[no-untyped-def]
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN, name="Boss")
    ivan = await make_user(core, company, "ivan@example.com", name="Ivan", language="fr")
    olga = await make_user(core, company, "olga@example.com", name="Olga")
    site, alert = await _site(core, company, ivan.id)
    base = f"/installations/{site}/alerts/{alert}"
    boss: PortalClient = await browsers.new()
    installer: PortalClient = await browsers.new()
    await boss.login(admin.email)
    await installer.login(ivan.email)

    page = await installer.get(f"/installations/{site}/alerts")
    assert "Acquitter" in page.text and "Prendre en charge" in page.text
    assert (await installer.post(base + "/acknowledge")).status == 303
    assert (await installer.post(base + "/acknowledge")).status == 303  # once is enough
    follow_up = await _follow_up(core, alert)
    assert follow_up is not None and follow_up.acknowledged_by_id == ivan.id
    page = await boss.get(f"/installations/{site}/alerts")
    assert "Acknowledged by Ivan" in page.text

    # An installer takes an alert for themselves only; Olga cannot see the installation.
    assert (await installer.post(base + "/assign", {"user_id": str(admin.id)})).status == 403
    assert (await boss.post(base + "/assign", {"user_id": str(olga.id)})).status == 404
    assert (await boss.post(base + "/assign", {"user_id": "x"})).status == 404
    follow_up = await _follow_up(core, alert)
    assert follow_up is not None and follow_up.assigned_to_id is None
    assert (await installer.post(base + "/assign", {"user_id": str(ivan.id)})).status == 303
    assert (await boss.post(base + "/assign", {"user_id": str(admin.id)})).status == 303
    # Ivan no longer holds it: he cannot give it back for the administrator.
    assert (await installer.post(base + "/assign", {"user_id": ""})).status == 403
    follow_up = await _follow_up(core, alert)
    assert follow_up is not None and follow_up.assigned_to_id == admin.id
    assert await _log(core, site) == [
        ("alert_acknowledged", True, "Ivan"),
        ("alert_assigned", True, "Ivan"),
        ("alert_assigned", True, "Boss"),
    ]
    page = await installer.get(f"/installations/{site}/interventions")
    assert "Pile faible (Kitchen sensor) à Boss" in page.text

    # Another company's alert through one's own installation, or its own: 404.
    other = await make_company(core, "Other")
    other_site, other_alert = await _site(core, other)
    assert (
        await boss.post(f"/installations/{site}/alerts/{other_alert}/acknowledge")
    ).status == 404
    assert (
        await boss.post(f"/installations/{other_site}/alerts/{other_alert}/acknowledge")
    ).status == 404
    assert await _follow_up(core, other_alert) is None
