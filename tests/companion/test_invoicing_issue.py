"""Issuing invoices: gapless numbers, immutable rows, PDF/A-3 with a valid EN 16931 XML."""

from __future__ import annotations

from datetime import date

from lxml import etree
import pytest

from companion_server.core import Core
from companion_server.errors import ValidationFailed
from companion_server.invoicing.amounts import totals
from companion_server.invoicing.labels import money
from companion_server.invoicing.references import normalize_reference
from tests.companion.helpers import make_company
from tests.companion.invoicing_common import (
    embedded_xml,
    issue,
    line,
    pdf_path,
    pdf_text,
    shop,
)

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
        assert money(amount, "en") in text
    assert invoice.creditor_reference in text
    assert normalize_reference(invoice.creditor_reference) == invoice.creditor_reference


async def test_invoice_in_the_customers_language(core: Core) -> None:
    s = await shop(core)
    invoice = await issue(core, s, line(cents=123456), language="sk")
    text = pdf_text(pdf_path(core, invoice).read_bytes())
    assert "Faktúra" in text
    assert money(invoice.gross_cents, "sk").replace("\u00a0", " ") in text.replace("\u00a0", " ")


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
