"""The seed 002 story through the portal's pages: subscribe step by step, cancel at the end
of the period (end date in red), reactivate, cancel now; the administrator's catalogue and
handover protocols; bad input answers with the error and changes nothing."""

from __future__ import annotations

from datetime import date
import re

from sqlalchemy import func, select

from companion_server.core import Core
from companion_server.models import (
    CatalogueItem,
    InstallationDocument,
    InstallationHandover,
    ServiceCharge,
    ServiceSubscription,
)
from tests.companion.billing_common import World, handover, world
from tests.companion.helpers import BrowserFactory, FakeClock, PortalClient

ADDRESS = {"name": "Hana", "street": "1 rue X", "postcode": "75002", "city": "Paris"}


async def _count(core: Core, model: type) -> int:
    async with core.tx() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def _customer(browsers: BrowserFactory, w: World) -> PortalClient:
    client = await browsers.new()
    assert (await client.login(w.customer.email)).status == 303
    return client


async def test_subscribe_cancel_at_period_end_reactivate_cancel_now(
    core: Core, browsers: BrowserFactory, clock: FakeClock
) -> None:
    w = await world(core)
    hana = await _customer(browsers, w)
    base = f"/customer/services/{w.installation.id}"
    page = await hana.get("/customer")
    assert base in page.text
    page = await hana.get(base)
    assert page.status == 200
    for part in ("Included services", "Video service", "Security services", "Payments"):
        assert part in page.text
    assert "Change payment method" not in page.text  # S9: no paid service yet
    page = await hana.get(f"{base}/items/monitoring")
    assert "Subscribe" in page.text and "€24.99" in page.text
    # Subscribe: the other services are offered; add a recording, its options first.
    page = await hana.get(f"{base}/offer?cart=&add=monitoring")
    assert "Continue without adding" in page.text and "Backup connection" in page.text
    assert "Smart support" not in page.text  # no handover protocol on file
    page = await hana.get(f"{base}/items/recording_30d?cart=monitoring")
    assert f"{base}/options?cart=monitoring" in page.text
    page = await hana.get(f"{base}/options?cart=monitoring")
    assert 'value="recording_7d"' in page.text and 'value="recording_30d"' in page.text
    page = await hana.get(f"{base}/offer?cart=monitoring&add=recording_7d&cameras=2")
    assert "monitoring,recording_7d*2" in page.raw or "monitoring%2Crecording_7d%2A2" in page.raw
    page = await hana.get(f"{base}/summary?cart=monitoring,recording_7d*2")
    # 24.99 + 2 x 4.99 = 34.97; VAT 20 % per line as invoiced: 5.00 (4.998) + 2.00 (1.996).
    assert all(t in page.text for t in ("€34.97", "€7.00", "€41.97"))
    page = await hana.get(f"{base}/pay?cart=monitoring,recording_7d*2")
    assert "Pay €41.97 and subscribe" in page.text
    form = {"cart": "monitoring,recording_7d*2", "amount": "4197", **ADDRESS, "country": "FR"}
    refused = await hana.post(f"{base}/pay", {**form, "country": "France"})
    assert refused.status == 400 and "two letters" in refused.text
    assert "terms of sale to subscribe" in refused.text
    assert await _count(core, ServiceSubscription) == 0
    page = await hana.post(f"{base}/pay", {**form, "terms": "accepted"})
    assert page.status == 303 and page.location
    page = await hana.get(page.location)
    assert "Your services have started" in page.text and "Professional monitoring" in page.text
    page = await hana.get(base)
    assert "Change payment method" in page.text
    # The invoices and the payment method are the invoicing area's pages.
    assert 'href="/my-invoices"' in page.text
    assert 'href="/my-invoices/payment-method"' in page.text
    async with core.tx() as db:
        monitoring = await db.scalar(
            select(ServiceSubscription).where(ServiceSubscription.code == "monitoring")
        )
        recording = await db.scalar(
            select(ServiceSubscription).where(ServiceSubscription.code == "recording_7d")
        )
    assert monitoring is not None and recording is not None
    # Cancelling the recording while monitoring stays: credited, stopped now.
    page = await hana.get(f"/customer/subscriptions/{recording.id}/cancel")
    assert "credited on your next invoice" in page.text
    clock.advance(days=5)
    assert (await hana.login(w.customer.email)).status == 303  # the session idled out
    page = await hana.post(f"/customer/subscriptions/{recording.id}/cancel", {"when": "now"})
    assert page.location == f"/customer/subscriptions/{recording.id}/cancelled"
    assert "has stopped" in (await hana.get(page.location)).text
    # The last paid service: now or at the end of the period.
    page = await hana.get(f"/customer/subscriptions/{monitoring.id}/cancel")
    assert "last paid service" in page.text and "April 2, 2026" in page.text
    charges = await _count(core, ServiceCharge)
    page = await hana.post(
        f"/customer/subscriptions/{monitoring.id}/cancel", {"when": "period_end"}
    )
    assert "It stops on April 2, 2026" in (await hana.get(page.location or "")).text
    page = await hana.get(base)
    assert re.search(r'class="ends">Ends on April 2, 2026<', page.raw)
    page = await hana.post(f"/customer/subscriptions/{monitoring.id}/reactivate")
    assert "effective again within a few minutes" in (await hana.get(page.location or "")).text
    page = await hana.get(base)
    assert "Ends on" not in page.text and await _count(core, ServiceCharge) == charges
    page = await hana.post(f"/customer/subscriptions/{monitoring.id}/cancel", {"when": "now"})
    assert "has stopped" in (await hana.get(page.location or "")).text
    page = await hana.get(base)
    assert "Change payment method" not in page.text
    # Cancelling again, or reactivating what is not being cancelled: refused, no change.
    again = await hana.post(f"/customer/subscriptions/{monitoring.id}/cancel", {"when": "now"})
    assert again.status == 409
    assert (await hana.post(f"/customer/subscriptions/{monitoring.id}/reactivate")).status == 409


async def test_tampered_carts_and_prices_are_refused(core: Core, browsers: BrowserFactory) -> None:
    w = await world(core)
    hana = await _customer(browsers, w)
    base = f"/customer/services/{w.installation.id}"
    for cart in ("sms", "monitoring,monitoring", "recording_7d*9", "backup*2", "nothing"):
        assert (await hana.get(f"{base}/summary?cart={cart}")).status == 404
    page = await hana.get(f"{base}/summary?cart=plan_premium")
    assert page.status == 400 and "handover protocol" in page.text
    form = {"cart": "backup", "amount": "1", **ADDRESS, "country": "FR", "terms": "accepted"}
    page = await hana.post(f"{base}/pay", form)
    assert page.status == 400 and "prices changed" in page.text
    assert await _count(core, ServiceSubscription) == 0
    other = await world(core)
    assert (await hana.get(f"/customer/services/{other.installation.id}")).status == 404


async def test_the_administrator_sets_prices_and_the_handover_opens_the_plans(
    core: Core, browsers: BrowserFactory
) -> None:
    w = await world(core)
    boss = await browsers.new()
    assert (await boss.login(w.admin.email)).status == 303
    page = await boss.get("/billing/catalogue")
    assert page.status == 200 and "Premium support" in page.text
    bad = await boss.post(
        "/billing/catalogue/items/plan_smart",
        {"price": "12,345", "discount": "120", "priority": "x", "active": "on"},
    )
    assert bad.status == 400 and "such as 19.90" in bad.text
    assert await _count(core, CatalogueItem) == 0
    page = await boss.post(
        "/billing/catalogue/items/plan_smart",
        {"price": "15,50", "discount": "12.5", "priority": "3", "active": "on"},
    )
    assert page.location == "/billing/catalogue?saved=plan_smart"
    for zone in ("Mars/Base", "../../../etc/passwd", "é9" * 300, "/usr/share/zoneinfo/UTC"):
        refused = await boss.post("/billing/catalogue/profile", {"vat": "10", "time_zone": zone})
        assert refused.status == 400, zone
    page = await boss.post(
        "/billing/catalogue/profile", {"vat": "10", "time_zone": "Europe/Bratislava"}
    )
    assert page.status == 303
    async with core.tx() as db:
        smart = await db.scalar(select(CatalogueItem).where(CatalogueItem.code == "plan_smart"))
        assert smart is not None
        assert (smart.monthly_price_cents, smart.discount_basis_points, smart.priority) == (
            1550,
            1250,
            3,
        )
    # The handover protocol: a date and one of the installation's documents.
    page = await boss.get("/billing/handovers")
    assert "Upload the signed protocol" in page.text
    await handover(core, w.installation, date(2026, 1, 10))
    async with core.tx() as db:
        document = await db.scalar(select(InstallationDocument.id))
    bad = await boss.post(
        f"/billing/handovers/{w.installation.id}",
        {"signed_on": "2027-01-01", "document_id": str(document)},
    )
    assert bad.status == 400 and "future" in bad.text
    page = await boss.post(
        f"/billing/handovers/{w.installation.id}",
        {"signed_on": "2025-12-05", "document_id": str(document)},
    )
    assert page.status == 303
    async with core.tx() as db:
        row = await db.get(InstallationHandover, w.installation.id)
        assert row is not None and row.signed_on == date(2025, 12, 5)
    # 5 Dec 2025 + 3 months = 5 Mar 2026; the clock says 2 March: Smart can start, at 10 % VAT.
    hana = await _customer(browsers, w)
    page = await hana.get(f"/customer/services/{w.installation.id}/summary?cart=plan_smart")
    assert page.status == 200 and "€17.05" in page.text
