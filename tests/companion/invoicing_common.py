"""What the invoicing tests share: a company with its seller details and a customer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
import io
from pathlib import Path

import facturx
from pypdf import PdfReader
import pytest

from companion_server.core import Core, build_core
from companion_server.installations.services import create_installation
from companion_server.invoicing.issue import Buyer, issue_invoice
from companion_server.invoicing.lines import ChargeLine
from companion_server.invoicing.store import store_of
from companion_server.models import Company, Invoice, Role, SellerProfile, User
from tests.companion.helpers import FakeClock, make_company, make_user
from tests.companion.tickets_common import make_customer

BUYER = Buyer("Hana Homeowner", "hana@home.example", "1 Rue des Lilas", "75001", "Paris", "FR")


@dataclass
class Shop:
    """Company A (seller details, administrator, a customer with an installation)."""

    company: Company
    admin: User
    customer: User
    installation_id: int


async def add_seller(core: Core, company_id: int, name: str = "Acme Installers SAS") -> None:
    async with core.tx() as db:
        db.add(
            SellerProfile(
                company_id=company_id,
                legal_name=name,
                street="2 Avenue de la Gare",
                postcode="69001",
                city="Lyon",
                country="FR",
                vat_id="FR40303265045",
                iban="FR1420041010050500013M02606",
                bic="PSSTFRPPLIL",
                vat_rate_basis_points=2000,
                payment_days=14,
                updated_at=core.now(),
            )
        )


async def shop(core: Core, name: str = "Acme", prefix: str = "") -> Shop:
    company = await make_company(core, name)
    admin = await make_user(core, company, f"{prefix}boss@{name.lower()}.example", role=Role.ADMIN)
    installation = await create_installation(core, company.id, name="Villa Rose")
    customer = await make_customer(core, f"{prefix}hana@{name.lower()}.example", installation)
    await add_seller(core, company.id, f"{name} Installers SAS")
    return Shop(company, admin, customer, installation.id)


def line(
    source: str = "subscription:1",
    cents: int = 1990,
    milli: int = 1000,
    rate: int = 2000,
    start: date | None = None,
    end: date | None = None,
) -> ChargeLine:
    return ChargeLine(
        source=source,
        description_key="Professional monitoring",
        description_params=(),
        quantity_milli=milli,
        unit_price_cents=cents,
        vat_rate_basis_points=rate,
        period_start=start,
        period_end=end,
    )


async def issue(
    core: Core, s: Shop, *lines: ChargeLine, language: str = "en", buyer: Buyer = BUYER
) -> Invoice:
    async with core.tx() as db:
        return await issue_invoice(
            db,
            company_id=s.company.id,
            customer_id=s.customer.id,
            buyer=buyer,
            lines=lines or (line(),),
            language=language,
            now=core.now(),
            store=store_of(core),
        )


def pdf_path(core: Core, invoice: Invoice) -> Path:
    return store_of(core).path(invoice.stored_name)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def embedded_xml(data: bytes) -> bytes:
    _filename, xml = facturx.get_xml_from_pdf(data, check_xsd=True)
    assert isinstance(xml, bytes)
    return xml


@pytest.fixture
async def patient_core(core: Core, clock: FakeClock) -> AsyncIterator[Core]:
    """The portal's core whose writers wait for their turn as long as the settings allow.

    Issuers of one company at once take turns on its counter row: on a loaded machine a
    few of them need more than the 3 seconds after which the portal answers "busy" (not
    what a test of their numbers is about).
    """
    patient = build_core(core.settings.replace(database_busy_seconds=60), clock)
    try:
        yield patient
    finally:
        await patient.close()
