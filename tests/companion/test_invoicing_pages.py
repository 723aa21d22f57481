"""The invoice pages: the customer's own invoices, the company's, credit notes, export."""

from __future__ import annotations

from multidict import MultiDict
from sqlalchemy import select

from companion_server.billing.money import euros
from companion_server.core import Core
from companion_server.models import Invoice, Role, User
from tests.companion.helpers import BrowserFactory, make_company, make_user
from tests.companion.invoicing_common import issue, line, pdf_text, shop
from tests.companion.tickets_common import make_customer


async def test_customer_sees_downloads_own_invoice_only(
    core: Core, browsers: BrowserFactory
) -> None:
    s = await shop(core)
    invoice = await issue(core, s, line(cents=4990))
    other = await make_customer(core, "other@home.example")
    client = await browsers.new()
    assert (await client.login(s.customer.email)).status == 303
    listing = await client.get("/my-invoices")
    assert listing.status == 200 and f'data-invoice="{invoice.id}"' in listing.text
    view = await client.get(f"/my-invoices/{invoice.id}")
    assert euros(invoice.gross_cents, "en") in view.text and invoice.creditor_reference in view.text
    async with client.session.get(f"{client.base_url}/my-invoices/{invoice.id}/pdf") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/pdf"
        assert "attachment" in response.headers["Content-Disposition"]
        assert euros(invoice.gross_cents, "en") in pdf_text(await response.read())
    stranger = await browsers.new()
    assert (await stranger.login(other.email)).status == 303
    assert (await stranger.get(f"/my-invoices/{invoice.id}")).status == 404
    assert (await stranger.get(f"/my-invoices/{invoice.id}/pdf")).status == 404
    assert f'data-invoice="{invoice.id}"' not in (await stranger.get("/my-invoices")).text


async def test_admin_issues_credit_note_once_per_line(core: Core, browsers: BrowserFactory) -> None:
    s = await shop(core)
    invoice = await issue(core, s, line("a:1", 1000), line("a:2", 2000))
    admin = await browsers.new()
    assert (await admin.login(s.admin.email)).status == 303
    page = await admin.get(f"/invoices/{invoice.id}")
    assert page.status == 200
    done = await admin.post(f"/invoices/{invoice.id}/credit-note", MultiDict([("line", "2")]))
    assert done.status == 303
    async with core.tx() as db:
        note = await db.get(Invoice, int(done.location.rsplit("/", 1)[1]))
        assert note is not None
        assert (note.kind, note.number, note.credited_invoice_id) == ("credit_note", 2, invoice.id)
        assert note.gross_cents == 2400
    await admin.get(f"/invoices/{invoice.id}")
    again = await admin.post(f"/invoices/{invoice.id}/credit-note", MultiDict([("line", "2")]))
    assert again.status == 400 and "credited already" in again.text
    bad = await admin.post(f"/invoices/{invoice.id}/credit-note", MultiDict([("line", "x")]))
    assert bad.status == 400


async def test_other_company_admin_and_other_roles_are_kept_out(
    core: Core, browsers: BrowserFactory
) -> None:
    s = await shop(core)
    invoice = await issue(core, s)
    rival = await shop(core, "Rival")
    installer = await make_user(core, s.company, "fitter@acme.example")
    clients = {}
    for email in (rival.admin.email, installer.email):
        clients[email] = await browsers.new()
        assert (await clients[email].login(email)).status == 303
    assert (await clients[rival.admin.email].get(f"/invoices/{invoice.id}")).status == 404
    assert (await clients[rival.admin.email].get(f"/invoices/{invoice.id}/pdf")).status == 404
    listing = await clients[rival.admin.email].get("/invoices")
    assert f'data-invoice="{invoice.id}"' not in listing.text
    assert (await clients[installer.email].get("/invoices")).status == 403
    assert (await clients[installer.email].get(f"/my-invoices/{invoice.id}")).status == 303


async def test_export_csv_of_a_period(core: Core, browsers: BrowserFactory) -> None:
    s = await shop(core)
    invoice = await issue(core, s, line(cents=1000))
    admin = await browsers.new()
    await admin.login(s.admin.email)
    day = invoice.issue_date.isoformat()
    page = await admin.get(f"/invoices/export?from={day}&to={day}")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/csv")
    rows = page.text.splitlines()
    assert rows[0].startswith("type,date,number")
    assert rows[1].startswith(
        f"invoice,{day},000001,,Hana Homeowner,{invoice.creditor_reference},10.00,2.00,12.00"
    )
    assert (await admin.get("/invoices/export?from=2026-05-01&to=2026-04-01")).status == 400
    assert (await admin.get("/invoices/export?from=nope&to=")).status == 400


async def test_seller_details_are_checked(core: Core, browsers: BrowserFactory) -> None:
    company = await make_company(core, "Fresh")
    admin_user = await make_user(core, company, "boss@fresh.example", role=Role.ADMIN)
    admin = await browsers.new()
    await admin.login(admin_user.email)
    assert (await admin.get("/invoices/seller")).status == 200
    values = {
        "legal_name": "Fresh SARL",
        "street": "1 Rue",
        "postcode": "75001",
        "city": "Paris",
        "country": "fr",
        "vat_id": "FR00000000000",
        "iban": "FR1420041010050500013M02606",
        "bic": "",
        "vat_rate": "20",
        "payment_days": "30",
    }
    refused = await admin.post("/invoices/seller", values)
    assert refused.status == 400 and "Enter a valid EU VAT number." in refused.text
    saved = await admin.post(
        "/invoices/seller", values | {"vat_id": "FR 40 303265045", "vat_rate": "5,5"}
    )
    assert saved.status == 303
    page = await admin.get("/invoices/seller")
    assert 'value="FR40303265045"' in page.text and 'value="5.50"' in page.text


async def test_demo_customer_has_one_invoice(core: Core, browsers: BrowserFactory) -> None:
    from companion_server.demo import DEMO_PASSWORD, seed_demo

    await seed_demo(core)
    await seed_demo(core)  # idempotent: still one invoice
    async with core.tx() as db:
        [invoice] = list(
            await db.scalars(
                select(Invoice)
                .join(User, User.id == Invoice.customer_id)
                .where(User.email == "customer@demo.example")
            )
        )
    assert (invoice.number, invoice.gross_cents) == (1, 18000)
    browser = await browsers.new()
    assert (await browser.login("customer@demo.example", DEMO_PASSWORD)).status == 303
    page = await browser.get(f"/my-invoices/{invoice.id}")
    assert "Service trip 1 of 1" in page.text
