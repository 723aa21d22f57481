"""The demo home subscribed to the monitoring centre, with an intrusion waiting."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.centre import store
from companion_server.centre.protocol_values import CaseKind
from companion_server.models import CentreSubscription, Installation
from companion_server.security import scrypt_hashes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

DEMO_HOME = "Demo home (monitored)"
# What the demo home's contacts say on the phone to identify themselves.
DEMO_CONTACT_PASSWORDS = ("papillon", "hirondelle")
DEMO_CONTACTS = (
    ("owner", "Claire", "Dupont", "+33612345678"),
    ("outside", "Marc", "Voisin", "+33698765432"),
)


async def seed_monitored_home(db: AsyncSession, company_id: int, now: datetime) -> None:
    """The demo home subscribed to the monitoring centre (its contacts' passwords printed)."""
    home = await db.scalar(
        select(Installation).where(
            Installation.company_id == company_id, Installation.name == DEMO_HOME
        )
    )
    if home is None:
        home = Installation(company_id=company_id, name=DEMO_HOME, status="pending", created_at=now)
        db.add(home)
        await db.flush()
    contacts = [
        {
            "kind": kind,
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "password_hash": scrypt_hashes.make(password, f"demo-salt-{n:06d}".encode()),
        }
        for n, ((kind, first, last, phone), password) in enumerate(
            zip(DEMO_CONTACTS, DEMO_CONTACT_PASSWORDS, strict=True)
        )
    ]
    values = {
        "status": "active",
        "complete": True,
        "contacts": json.dumps(contacts),
        "address": json.dumps(
            {"street": "12 rue des Lilas", "postcode": "69003", "city": "Lyon", "country": "FR"}
        ),
        "instructions": "The spare key is with Marc, next door.",
        "on_site": json.dumps(
            {"guard_may_enter": True, "key_holder": "Marc Voisin", "access_notes": "Gate code 2580"}
        ),
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        "received_at": now,
    }
    row = await db.get(CentreSubscription, home.id)
    if row is None:
        db.add(CentreSubscription(installation_id=home.id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
    # An intrusion waiting in the console, unless one is open already.
    if await store.open_case_of(db, home.id) is None:
        await store.open_new(
            db,
            company_id=company_id,
            installation_id=home.id,
            kind=CaseKind.INTRUSION,
            contacts=contacts,
            now=now,
        )
