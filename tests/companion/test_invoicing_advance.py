"""Pay in advance (D6): without a paid plan, the customer pays before the remote service.

The whole story runs against the real portal: the advance invoice, its e-mail over SMTP
(aiosmtpd) in the customer's language, the customer area's page behind the link, the
payment, the remote-service request it unlocks, and the final invoice that deducts it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from companion_server.billing.money import euros
from companion_server.invoicing import advances
from companion_server.invoicing.issue import lines_of
from companion_server.invoicing.payments.card import process_event
from companion_server.mail import worker
from companion_server.models import (
    Company,
    Installation,
    InterventionAdvance,
    InterventionEntry,
    Invoice,
    PortalFrame,
    RemoteWindow,
    Role,
)
from tests.companion.helpers import BrowserFactory, FakeClock, make_company, make_user
from tests.companion.interventions_common import Setup, portal, request_form, setup
from tests.companion.invoicing_common import add_seller
from tests.companion.stripe_common import paid_event, verified
from tests.companion.test_mail import SmtpServer, running_smtp, smtp
from tests.companion.tickets_common import make_customer

__all__ = ["portal", "running_smtp", "setup", "smtp"]

ADDRESS = {"street": "Hlavná 1", "postcode": "81101", "city": "Bratislava", "country": "sk"}


async def test_customer_without_plan_pays_in_advance_then_the_work_deducts_it(
    setup: Setup, smtp: SmtpServer, clock: FakeClock
) -> None:
    core, browser, base = setup.core, setup.browser, setup.base
    async with core.tx() as db:
        installation = await db.get(Installation, setup.installation_id)
        assert installation is not None
    await add_seller(core, installation.company_id)
    customer = await make_customer(core, "hana@home.example", installation, language="sk")
    # The rule is visible where remote service is requested, and enforced server-side.
    page = await browser.get(base)
    assert 'data-advance="none"' in page.raw and "Pay in advance" in page.text
    assert 'class="remote-request"' not in page.raw
    refused = await browser.post(base + "/remote-service", request_form())
    assert refused.status == 409 and "they pay in advance" in refused.text
    async with core.tx() as db:
        frames = select(func.count()).select_from(PortalFrame)
        assert not await db.scalar(frames.where(PortalFrame.type == "request_remote_service"))
    # The advance: a bad estimate changes nothing; a good one is invoiced and e-mailed.
    form = await browser.get(base + "/advance")
    assert form.status == 200 and 'name="remote_hours"' in form.raw
    bad = await browser.post(base + "/advance", {**ADDRESS, "remote_hours": "99"})
    assert bad.status == 400 and "Enter the remote hours (0 to 8)." in bad.text
    done = await browser.post(base + "/advance", {**ADDRESS, "remote_hours": "2", "trips": "1"})
    assert done.status == 303
    async with core.tx() as db:
        advance = await db.scalar(select(InterventionAdvance))
        assert advance is not None
        invoice = await db.get(Invoice, advance.invoice_id)
        assert invoice is not None
    assert (invoice.net_cents, invoice.vat_cents, invoice.gross_cents) == (20000, 4000, 24000)
    assert (invoice.customer_id, invoice.language) == (customer.id, "sk")
    again = await browser.post(base + "/advance", {**ADDRESS, "remote_hours": "1"})
    assert again.status == 409  # one advance at a time
    await worker.deliver_due(core)
    [message] = [m for m in smtp.inbox.messages if m["To"] == "hana@home.example"]
    link = f"http://portal.example/my-invoices/{invoice.id}"
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert "žiada platbu vopred" in str(message["Subject"]) and link in body
    # The link opens the invoice and the ways to pay it, for that customer only.
    browsers = BrowserFactory(str(setup.ha.base_url).rstrip("/"))
    try:
        home = await browsers.new()
        assert (await home.login(customer.email)).status == 303
        view = await home.get(link.removeprefix("http://portal.example"))
        assert view.status == 200 and "data-advance-invoice" in view.raw
        assert 'class="payment-qr" src="data:image/svg+xml' in view.raw
        assert euros(24000, "sk") in view.text.replace(" ", "\u00a0")
        other = await make_customer(core, "other@home.example")
        stranger = await browsers.new()
        assert (await stranger.login(other.email)).status == 303
        assert (await stranger.get(f"/my-invoices/{invoice.id}")).status == 404
        rival_company = await make_company(core, "Rival")
        await make_user(core, rival_company, "boss@rival.example", role=Role.ADMIN)
        rival = await browsers.new()
        assert (await rival.login("boss@rival.example")).status == 303
        assert (await rival.get(f"/invoices/{invoice.id}")).status == 404
        assert (await rival.get(base + "/advance")).status == 404
    finally:
        await browsers.close()
    # Unpaid: still refused. Paid by card (Stripe's webhook): the company sees it and may ask.
    assert (await browser.post(base + "/remote-service", request_form())).status == 409
    async with core.tx() as db:
        assert await process_event(db, verified(paid_event(invoice, "evt_advance")), core.now())
    page = await browser.get(base)
    assert 'data-advance="paid"' in page.raw and 'class="remote-request"' in page.raw
    assert (await browser.get(base + "/advance")).raw.count('data-advance="paid"') == 1
    await setup.grant()
    clock.advance(minutes=61)
    await setup.window("revoked")
    assert (await browser.login("boss@acme.example")).status == 303  # idle for an hour
    async with core.tx() as db:
        window_id = await db.scalar(select(RemoteWindow.id).where(RemoteWindow.state == "revoked"))
    final = await browser.post(
        f"/invoices/interventions/{window_id}",
        {**ADDRESS, "on_site_minutes": "0", "trips": "2"},
    )
    assert final.status == 303
    async with core.tx() as db:
        last = await db.scalar(select(Invoice).order_by(Invoice.number.desc()).limit(1))
        assert last is not None and last.number == invoice.number + 1
        lines = await lines_of(db, last.id)
        settled = await db.get(InterventionAdvance, advance.id)
        assert settled is not None and settled.settled_by_invoice_id == last.id
        state = await advances.gate(db, installation, core.now())
    # Two started remote hours and two trips, less the advance's 200.00 net: every amount
    # comes from the lines.
    assert [line.net_cents for line in lines] == [5000, 5000, 10000, 10000, -20000]
    assert lines[-1].description == "Mínus zálohová faktúra 000001"
    assert last.net_cents == sum(line.net_cents for line in lines) == 10000
    assert (last.vat_cents, last.gross_cents) == (2000, 12000)
    # Deducted once: the next intervention needs a new advance.
    assert state.required and state.status == "none" and not state.allowed


async def test_override_is_recorded_and_lets_the_request_through(
    setup: Setup, smtp: SmtpServer
) -> None:
    core, browser, base = setup.core, setup.browser, setup.base
    async with core.tx() as db:
        installation = await db.get(Installation, setup.installation_id)
        assert installation is not None
    await add_seller(core, installation.company_id)
    await make_customer(core, "hana@home.example", installation)
    assert (await browser.post(base + "/advance/override", {"reason": "urgent"})).status == 409
    assert (await browser.post(base + "/advance", {**ADDRESS, "trips": "1"})).status == 303
    short = await browser.post(base + "/advance/override", {"reason": "x"})
    assert short.status == 400 and "Say why the work starts before payment" in short.text
    async with core.tx() as db:
        company = await db.get(Company, installation.company_id)
        assert company is not None
    installer = await make_user(core, company, "ivan@acme.example")
    browsers = BrowserFactory(str(setup.ha.base_url).rstrip("/"))
    try:
        other = await browsers.new()
        assert (await other.login(installer.email)).status == 303
        assert (await other.post(base + "/advance/override", {"reason": "urgent"})).status == 403
    finally:
        await browsers.close()
    done = await browser.post(base + "/advance/override", {"reason": "Alarm keeps ringing"})
    assert done.status == 303
    page = await browser.get(base)
    assert 'data-advance="overridden"' in page.raw
    assert (await browser.post(base + "/remote-service", request_form())).status == 303
    async with core.tx() as db:
        advance = await db.scalar(select(InterventionAdvance))
        assert advance is not None and advance.override_reason == "Alarm keeps ringing"
        entry = await db.scalar(
            select(InterventionEntry).where(InterventionEntry.kind == "advance_override")
        )
        assert entry is not None and entry.private and entry.actor_name
