"""Keyset pages of the administrators' lists: invoices, handover protocols."""

from __future__ import annotations

from datetime import date
import html
import re

import pytest
from sqlalchemy import insert

from companion_server.billing import admin as billing_admin
from companion_server.core import Core
from companion_server.invoicing import company_list
from companion_server.keyset import encode_cursor
from companion_server.models import Company, Installation, Invoice, Role
from tests.companion.helpers import PortalClient, make_company, make_user

INVOICE = re.compile(r'<tr data-invoice="(\d+)">')
HANDOVER = re.compile(r'<h2 id="h-\d+">([^<]+)</h2>')
# Unreadable, or holding a key of the wrong type for the list.
FORGED = ("x", "W10", "%00", "x" * 5000)


def _next(text: str, path: str) -> str | None:
    found = re.search(rf'<a href="({re.escape(path)}\?after=[^"]+)" rel="next">', text)
    return None if found is None else html.unescape(found.group(1))


async def _invoices(core: Core, company: Company, numbers: range) -> dict[int, int]:
    """Invoices of the company by number (bare: no lines, no payment); their ids."""
    now = core.now()
    party = {"street": "1 rue Haute", "postcode": "75001", "city": "Paris", "country": "FR"}
    async with core.tx() as db:
        ids = {}
        for number in numbers:
            ids[number] = await db.scalar(
                insert(Invoice)
                .values(
                    company_id=company.id,
                    number=number,
                    kind="invoice",
                    issued_at=now,
                    issue_date=date(2026, 3, 1),
                    due_date=date(2026, 3, 31),
                    language="en",
                    currency="EUR",
                    seller_name=company.name,
                    seller_vat_id="FR00123456789",
                    seller_iban="FR7630006000011234567890189",
                    seller_bic="AGRIFRPP",
                    buyer_name="Home",
                    buyer_email="home@example.com",
                    net_cents=1000,
                    vat_cents=200,
                    gross_cents=1200,
                    creditor_reference=f"RF{company.id:04}{number:08}",
                    stored_name=f"{company.id}-{number}.pdf",
                    **{f"seller_{k}": v for k, v in party.items()},
                    **{f"buyer_{k}": v for k, v in party.items()},
                )
                .returning(Invoice.id)
            )
        return ids


async def test_invoices_page_by_number_and_never_show_another_company(
    core: Core, client: PortalClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(company_list, "PAGE_SIZE", 3)
    company = await make_company(core)
    rival = await make_company(core, "Rival Installers")
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    ours = await _invoices(core, company, range(1, 8))
    theirs = await _invoices(core, rival, range(1, 8))
    await client.login(admin.email)
    seen: list[int] = []
    path: str | None = "/invoices"
    while path is not None:
        page = await client.get(path)
        assert page.status == 200
        rows = [int(i) for i in INVOICE.findall(page.text)]
        assert 0 < len(rows) <= 3
        seen += rows
        path = _next(page.text, "/invoices")
        if path is not None:
            # Issued between two pages: on the first page, not shifting the next ones.
            ours.update(await _invoices(core, company, range(len(ours) + 1, len(ours) + 2)))
    assert seen == [ours[n] for n in range(7, 0, -1)]
    assert not set(seen) & set(theirs.values())
    assert '<a href="/invoices">' in page.text
    for cursor in (*FORGED, encode_cursor("Villa", 1)):
        page = await client.get(f"/invoices?after={cursor}")
        assert page.status == 200, cursor
        assert INVOICE.findall(page.text) == [str(ours[n]) for n in sorted(ours)[:-4:-1]]


async def test_handovers_page_by_name_and_never_show_another_company(
    core: Core, client: PortalClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(billing_admin, "HANDOVERS_PAGE", 3)
    company = await make_company(core)
    rival = await make_company(core, "Rival Installers")
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    now = core.now()
    async with core.tx() as db:
        # Two installations share each name: the id breaks the tie.
        for owner, names in ((company, [f"Villa {n // 2}" for n in range(8)]), (rival, ["Rival"])):
            db.add_all(Installation(company_id=owner.id, name=n, created_at=now) for n in names)
    await client.login(admin.email)
    seen: list[str] = []
    path: str | None = "/billing/handovers"
    while path is not None:
        page = await client.get(path)
        assert page.status == 200
        names = HANDOVER.findall(page.text)
        assert 0 < len(names) <= 3
        seen += names
        path = _next(page.text, "/billing/handovers")
    assert seen == [f"Villa {n // 2}" for n in range(8)]
    assert '<a href="/billing/handovers">' in page.text
    for cursor in (*FORGED, encode_cursor(3, 1)):
        page = await client.get(f"/billing/handovers?after={cursor}")
        assert page.status == 200, cursor
        assert HANDOVER.findall(page.text) == ["Villa 0", "Villa 0", "Villa 1"]
