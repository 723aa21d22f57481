"""Issuing invoices: gapless numbers, immutable rows, PDF/A-3 with a valid EN 16931 XML."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from lxml import etree
import pytest

from companion_server.billing.money import euros
from companion_server.core import Core
from companion_server.errors import NotFound, ValidationFailed
from companion_server.invoicing.amounts import totals
from companion_server.invoicing.interventions import invoice_intervention
from companion_server.invoicing.issue import lines_of, next_number
from companion_server.invoicing.references import normalize_reference
from companion_server.invoicing.store import store_of
from companion_server.journal import log
from companion_server.models import Installation, RemoteWindow
from tests.companion.helpers import make_company
from tests.companion.invoicing_common import (
    embedded_xml,
    issue,
    line,
    patient_core,
    pdf_path,
    pdf_text,
    shop,
)

__all__ = ["patient_core"]

RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"


async def test_invoice_pdf_carries_valid_xml_and_same_totals(core: Core) -> None:
    s = await shop(core)
    invoice = await issue(
        core,
        s,
        line("subscription:1", 1990, start=date(2026, 3, 1), end=date(2026, 3, 31)),
        line("subscription:2", 990, milli=1500, rate=550),
        line("credit:subscription:3", -333),
    )
    assert (invoice.number, invoice.net_cents) == (1, 1990 + 1485 - 333)
    data = pdf_path(core, invoice).read_bytes()
    assert data.startswith(b"%PDF-")
    xml = etree.fromstring(embedded_xml(data))
    grand = xml.find(f".//{RAM}GrandTotalAmount")
    assert grand is not None and grand.text == "35.55"
    assert invoice.vat_cents == 398 + 82 - 67
    assert invoice.gross_cents == invoice.net_cents + invoice.vat_cents == 3555
    text = pdf_text(data)
    for amount in (invoice.net_cents, invoice.vat_cents, invoice.gross_cents):
        assert euros(amount, "en") in text
    assert invoice.creditor_reference in text
    assert normalize_reference(invoice.creditor_reference) == invoice.creditor_reference


async def test_invoice_in_the_customers_language(core: Core) -> None:
    s = await shop(core)
    invoice = await issue(core, s, line(cents=123456), language="sk")
    text = pdf_text(pdf_path(core, invoice).read_bytes())
    assert "Faktúra" in text
    assert euros(invoice.gross_cents, "sk").replace("\u00a0", " ") in text.replace("\u00a0", " ")


async def test_numbers_follow_each_other_per_company(core: Core) -> None:
    a = await shop(core, "Acme")
    b = await shop(core, "Rival")
    numbers = [(await issue(core, a)).number, (await issue(core, b)).number]
    numbers.append((await issue(core, a)).number)
    assert numbers == [1, 1, 2]


async def test_refused_invoices_write_nothing_and_use_no_number(core: Core) -> None:
    s = await shop(core)
    with pytest.raises(ValidationFailed) as caught:
        await issue(core, s, line(cents=-100))
    assert "lines" in caught.value.errors
    bare = await make_company(core, "Bare")
    s.company = bare
    with pytest.raises(ValidationFailed) as caught:
        await issue(core, s)
    assert "seller" in caught.value.errors
    s2 = await shop(core, "Other")
    assert (await issue(core, s2)).number == 1


def test_totals_are_sums_of_the_lines() -> None:
    result = totals([(3, 2000), (3, 2000), (1000, 550)])
    assert (result.net_cents, result.vat_cents) == (1006, 1 + 1 + 55)


async def test_concurrent_issuers_never_skip_or_repeat(patient_core: Core) -> None:
    """Several issuers at once (PostgreSQL: parallel transactions on the counter row); one
    rolls back after taking its number, which goes back to the next issuer."""
    core = patient_core
    s = await shop(core)

    async def failing() -> None:
        async with core.tx() as db:
            await next_number(db, s.company.id)
            raise RuntimeError("the issuing transaction fails after numbering")

    results = await asyncio.gather(
        *(issue(core, s) for _ in range(5)),
        failing(),
        *(issue(core, s) for _ in range(3)),
        return_exceptions=True,
    )
    numbers = sorted(r.number for r in results if not isinstance(r, BaseException))
    assert numbers == list(range(1, 9))
    assert sum(isinstance(r, RuntimeError) for r in results) == 1


async def test_intervention_invoice_from_the_journalled_window(core: Core) -> None:
    s = await shop(core)
    start = core.now() - timedelta(hours=3)
    async with core.tx() as db:
        window = RemoteWindow(
            installation_id=s.installation_id,
            state="ended",
            kinds="[]",
            hours=8,
            until=start + timedelta(hours=8),
            requested_at=start - timedelta(minutes=5),
            changed_at=start + timedelta(minutes=61),
        )
        db.add(window)
        installation = await db.get(Installation, s.installation_id)
        assert installation is not None
        log(db, installation, start, "window_granted")
        await db.flush()
        window_id = window.id
    admin = s.admin
    form = {
        "trips": "1",
        "discount_percent": "90",  # not a field: the discount is the plan's (none here)
        "street": "1 Rue",
        "city": "Lyon",
        "country": "fr",
    }
    invoice = await invoice_intervention(core, admin, window_id, form, store_of(core))
    async with core.tx() as db:
        lines = await lines_of(db, invoice.id)
    assert [line.unit_price_cents for line in lines] == [5000, 5000, 10000]
    assert invoice.net_cents == 20000 and invoice.gross_cents == 24000
    assert "2026-03-02 05:00:00" in lines[0].description
    with pytest.raises(ValidationFailed) as caught:
        await invoice_intervention(core, admin, window_id, form, store_of(core))
    assert "window" in caught.value.errors
    rival = await shop(core, "Rival")
    with pytest.raises(NotFound):
        await invoice_intervention(core, rival.admin, window_id, form, store_of(core))
