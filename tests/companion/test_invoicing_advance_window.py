"""Pay in advance applies to a window the homeowner opens in Home Assistant without a request.

The window stays open (the homeowner's decision, recorded), but the installer's actions in it
are refused with the pay-in-advance message until the advance is paid or overridden; the
installation's pages say why. Plan holders are never held back.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from companion_server.billing.cart import CartItem
from companion_server.interventions.rules import OPEN
from companion_server.invoicing.payments.card import process_event
from companion_server.models import (
    Company,
    Installation,
    InterventionAdvance,
    InterventionEntry,
    Invoice,
    PortalFrame,
    RemoteAction,
    RemoteWindow,
    Role,
    User,
)
from tests.companion import ha as sim
from tests.companion.billing_common import World, handover, subscribe
from tests.companion.helpers import make_user
from tests.companion.interventions_common import ALL_KINDS, Setup, portal, setup
from tests.companion.invoicing_common import add_seller
from tests.companion.stripe_common import paid_event, verified
from tests.companion.test_invoicing_advance import ADDRESS
from tests.companion.test_mail import running_smtp, smtp
from tests.companion.tickets_common import make_customer

__all__ = ["portal", "running_smtp", "setup", "smtp"]

HELD = "they pay in advance"


async def _customer(setup: Setup) -> tuple[Installation, User]:
    """The company invoices through the portal and the homeowner has a customer account."""
    async with setup.core.tx() as db:
        installation = await db.get(Installation, setup.installation_id)
        assert installation is not None
    await add_seller(setup.core, installation.company_id)
    customer = await make_customer(setup.core, "hana@home.example", installation)
    return installation, customer


async def _opened_in_home_assistant(setup: Setup) -> None:
    """The homeowner grants a window from Home Assistant, answering no request."""
    until = setup.core.now() + timedelta(hours=2)
    await setup.ha.send(
        sim.frame(
            "window",
            {
                "request_id": None,
                "state": "granted",
                "until": until.isoformat(),
                "kinds": ALL_KINDS,
            },
        )
    )
    await setup.ha.expect("ack")


async def _actions(setup: Setup) -> int:
    async with setup.core.tx() as db:
        sent = select(func.count()).select_from(PortalFrame).where(PortalFrame.type == "action")
        recorded = select(func.count()).select_from(RemoteAction)
        return int(await db.scalar(sent) or 0) + int(await db.scalar(recorded) or 0)


async def _refused(setup: Setup) -> None:
    """Every way to act is refused, with the reason; nothing is sent or recorded."""
    browser, base = setup.browser, setup.base
    for response in (
        await browser.post(base + "/remote/reboot", {}),
        await browser.post(base + "/remote/web-app", {}),
        await browser.get(base + "/remote/pair"),
    ):
        assert response.status == 409 and HELD in response.text
    assert await _actions(setup) == 0


async def _reboots(setup: Setup) -> None:
    assert (await setup.browser.post(setup.base + "/remote/reboot", {})).status == 303
    frame = await setup.ha.expect("action")
    assert frame["payload"]["kind"] == "reboot"


async def test_a_window_from_home_assistant_waits_for_the_advance(setup: Setup) -> None:
    core, browser, base = setup.core, setup.browser, setup.base
    await _customer(setup)
    await _opened_in_home_assistant(setup)
    async with core.tx() as db:
        window = await db.scalar(select(RemoteWindow))
        granted = await db.scalar(
            select(InterventionEntry.id).where(InterventionEntry.kind == "window_granted")
        )
    # The homeowner's decision is recorded: the window is open, journalled.
    assert window is not None and window.state == OPEN and window.request_id is None
    assert granted is not None
    page = await browser.get(base + "/devices")
    assert page.status == 200 and 'data-advance="held"' in page.raw
    assert 'data-remote="held"' in page.raw  # a card saying why, not the bar of a window
    assert "remote actions wait until the advance invoice is issued and paid" in page.text
    assert 'action="' + base + '/remote/reboot"' not in page.raw  # no control offered
    await _refused(setup)
    # The same message, translated.
    await browser.post("/language", {"language": "fr", "next": "/"})
    refused = await browser.post(base + "/remote/reboot", {})
    assert refused.status == 409 and "il paie d'avance" in refused.text
    await browser.post("/language", {"language": "en", "next": "/"})
    # Issued, not paid yet: still held, the page names the advance invoice.
    assert (await browser.post(base + "/advance", {**ADDRESS, "trips": "1"})).status == 303
    page = await browser.get(base)
    assert "wait until advance invoice 000001 is paid" in page.text
    await _refused(setup)
    # Paid (Stripe's webhook): the installer may act in the same window.
    async with core.tx() as db:
        advance = await db.scalar(select(InterventionAdvance))
        assert advance is not None
        invoice = await db.get(Invoice, advance.invoice_id)
        assert invoice is not None
        assert await process_event(db, verified(paid_event(invoice, "evt_window")), core.now())
    page = await browser.get(base + "/devices")
    assert 'data-advance="held"' not in page.raw
    assert 'action="' + base + '/remote/reboot"' in page.raw
    await _reboots(setup)


async def test_an_override_lifts_the_hold(setup: Setup) -> None:
    browser, base = setup.browser, setup.base
    await _customer(setup)
    await _opened_in_home_assistant(setup)
    assert (await browser.post(base + "/advance", {**ADDRESS, "trips": "1"})).status == 303
    await _refused(setup)
    override = await browser.post(base + "/advance/override", {"reason": "Alarm out of order"})
    assert override.status == 303
    page = await browser.get(base + "/devices")
    assert 'data-advance="held"' not in page.raw
    await _reboots(setup)


async def test_a_plan_holder_is_never_held_back(setup: Setup) -> None:
    installation, customer = await _customer(setup)
    async with setup.core.tx() as db:
        company = await db.get(Company, installation.company_id)
        assert company is not None
    admin = await make_user(setup.core, company, "admin2@acme.example", role=Role.ADMIN)
    w = World(company, installation, customer, admin)
    await handover(setup.core, installation, date(2026, 2, 1))
    await subscribe(setup.core, w, CartItem("plan_premium"))
    await _opened_in_home_assistant(setup)
    page = await setup.browser.get(setup.base + "/devices")
    assert 'data-advance="held"' not in page.raw
    await _reboots(setup)
