"""Helpers of the services tests: a company, its linked box, its customer and administrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
import uuid

from companion_server.billing.cart import CartItem
from companion_server.billing.checkout import Address, checkout, quote
from companion_server.core import Core
from companion_server.models import (
    Company,
    Installation,
    InstallationDocument,
    InstallationHandover,
    Role,
    ServiceSubscription,
    User,
)
from tests.companion.helpers import make_company, make_user
from tests.companion.tickets_common import linked_box, make_customer

ADDRESS = Address("Hana Homeowner", "1 rue de la Paix", "75002", "Paris", "FR")


@dataclass
class World:
    company: Company
    installation: Installation
    customer: User
    admin: User


async def world(core: Core, *, tag: str | None = None) -> World:
    """A company with a linked box, the box's customer and the company's administrator."""
    tag = tag or uuid.uuid4().hex[:8]
    company = await make_company(core, f"Acme {tag}")
    box = await linked_box(core, company, f"Villa {tag}", pin=f"1{int(tag, 16) % 10**11:011d}")
    customer = await make_customer(core, f"hana-{tag}@example.com", box.installation)
    admin = await make_user(core, company, f"boss-{tag}@acme.example", role=Role.ADMIN)
    return World(company, box.installation, customer, admin)


async def subscribe(core: Core, w: World, *items: CartItem) -> list[ServiceSubscription]:
    """Subscribe the customer through the checkout, at the clock's time."""
    async with core.tx() as db:
        priced = await quote(db, w.installation, items, core.now())
        receipt = await checkout(
            db,
            customer_id=w.customer.id,
            installation=w.installation,
            cart=items,
            address=ADDRESS,
            terms_accepted=True,
            expected_gross_cents=priced.gross_cents,
            now=core.now(),
        )
        return list(receipt.subscriptions)


async def handover(core: Core, installation: Installation, signed_on: date) -> None:
    """A signed handover protocol on file for the installation."""
    async with core.tx() as db:
        document = InstallationDocument(
            installation_id=installation.id,
            stored_name=uuid.uuid4().hex,
            title="Handover protocol",
            kind="pdf",
            size=10,
            uploaded_at=core.now(),
        )
        db.add(document)
        await db.flush()
        db.add(
            InstallationHandover(
                installation_id=installation.id,
                signed_on=signed_on,
                document_id=document.id,
                recorded_at=core.now(),
            )
        )
