"""The demo's support-plan holder: a remote intervention invoiced less the Premium plan's 20 %
on every started hour and the trip, seeded once however often the demo starts."""

from __future__ import annotations

from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.demo import DEMO_PASSWORD, seed_demo
from companion_server.demo.plan_intervention import PLAN_CUSTOMER, PLAN_HOUSE
from companion_server.invoicing.issue import lines_of
from companion_server.models import (
    Installation,
    Invoice,
    RemoteWindow,
    ServiceSubscription,
    User,
)
from tests.companion.helpers import BrowserFactory


async def _invoices(core: Core) -> list[Invoice]:
    async with core.tx() as db:
        paul = await db.scalar(select(User.id).where(User.email == PLAN_CUSTOMER))
        return list(
            await db.scalars(
                select(Invoice).where(Invoice.customer_id == paul).order_by(Invoice.number)
            )
        )


async def test_the_plan_holder_s_intervention_is_invoiced_at_the_plan_s_discount(
    core: Core, browsers: BrowserFactory
) -> None:
    await seed_demo(core)
    plan_invoice, intervention = await _invoices(core)
    await seed_demo(core)  # idempotent
    assert [i.id for i in await _invoices(core)] == [plan_invoice.id, intervention.id]
    async with core.tx() as db:
        house = await db.scalar(select(Installation).where(Installation.name == PLAN_HOUSE))
        assert house is not None
        [sub] = list(
            await db.scalars(
                select(ServiceSubscription).where(ServiceSubscription.installation_id == house.id)
            )
        )
        windows = await db.scalar(
            select(func.count())
            .select_from(RemoteWindow)
            .where(RemoteWindow.installation_id == house.id)
        )
        plan_lines = await lines_of(db, plan_invoice.id)
        lines = await lines_of(db, intervention.id)
    assert (sub.code, windows) == ("plan_premium", 1)
    assert [line.net_cents for line in plan_lines] == [3900]  # the plan's first month
    # 85 minutes remote (2 started hours), 90 on site (2), one trip: each less 20 %.
    assert [line.unit_price_cents for line in lines] == [4000, 4000, 4000, 4000, 8000]
    assert all(line.description.endswith("less 20 %") for line in lines)
    assert "remote" in lines[0].description and " 09:00:00 to " in lines[0].description
    assert (intervention.net_cents, intervention.gross_cents) == (24000, 28800)
    # The administrator sees it line by line; so does the customer, in their area.
    admin = await browsers.new()
    assert (await admin.login("admin@demo.example", DEMO_PASSWORD)).status == 303
    page = await admin.get(f"/invoices/{intervention.id}")
    assert page.status == 200 and page.text.count("less 20 %") == 5
    paul = await browsers.new()
    assert (await paul.login(PLAN_CUSTOMER, DEMO_PASSWORD)).status == 303
    page = await paul.get(f"/my-invoices/{intervention.id}")
    assert page.status == 200 and "Paul Premium" in page.text
