"""The demo's services: a stored catalogue and one subscription for the demo customer, seeded
once however often the demo starts; the demo centre still opens cases."""

from __future__ import annotations

from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.demo import DEMO_PASSWORD, seed_demo
from companion_server.models import (
    CatalogueItem,
    InstallationHandover,
    ServiceCharge,
    ServiceSubscription,
)
from tests.companion.helpers import BrowserFactory


async def _counts(core: Core) -> tuple[int, ...]:
    found = []
    async with core.tx() as db:
        for model in (CatalogueItem, ServiceSubscription, ServiceCharge, InstallationHandover):
            found.append(int(await db.scalar(select(func.count()).select_from(model)) or 0))
    return tuple(found)


async def test_the_demo_customer_has_a_service_and_the_catalogue_is_stored(
    core: Core, browsers: BrowserFactory
) -> None:
    await seed_demo(core)
    first = await _counts(core)
    await seed_demo(core)  # idempotent
    # The demo customer's recording, and the Premium holder's plan (see test_billing_demo_plan).
    assert await _counts(core) == first == (10, 2, 2, 2)
    async with core.tx() as db:
        sub = await db.scalar(select(ServiceSubscription).order_by(ServiceSubscription.id))
    assert sub is not None and (sub.code, sub.quantity) == ("recording_7d", 2)
    carla = await browsers.new()
    assert (await carla.login("customer@demo.example", DEMO_PASSWORD)).status == 303
    page = await carla.get(f"/customer/services/{sub.installation_id}")
    assert page.status == 200 and "Change payment method" in page.text
    # The handover is a month old: the support plans are offered.
    page = await carla.get(f"/customer/services/{sub.installation_id}/summary?cart=plan_smart")
    assert page.status == 200 and "Smart support" in page.text
