"""Helpers of the monitoring centre's tests: frames Home Assistant sends, an operator, cases."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import Any
import uuid

from sqlalchemy import select

from companion_server.centre.case_records import from_record
from companion_server.centre.protocol_values import CaseState
from companion_server.core import Core
from companion_server.models import CentreCase, Company, Role, User
from companion_server.security import scrypt_hashes
from tests.companion.ha import frame
from tests.companion.helpers import make_user

PASSWORDS = ("first secret", "second secret")
SALT = b"0123456789abcdef"
HASHES = tuple(scrypt_hashes.make(password, SALT) for password in PASSWORDS)
ADDRESS = {"street": "1 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR"}
ON_SITE = {"guard_may_enter": True, "key_holder": "Neighbour, flat 2", "access_notes": "Code 1234"}


def contact(n: int = 0, **changes: Any) -> dict[str, Any]:
    names = (("Alice", "Martin", "+33612345678"), ("Bob", "Durand", "+33698765432"))
    first, last, phone = names[n]
    return {
        "kind": "owner" if n == 0 else "outside",
        "first_name": first,
        "last_name": last,
        "phone": phone,
        "password_hash": HASHES[n],
        **changes,
    }


def subscription_payload(
    status: str = "active", count: int = 2, *, at: datetime | None = None, **changes: Any
) -> dict[str, Any]:
    active = status == "active"
    return {
        "status": status,
        "complete": active and count > 0,
        "contacts": [contact(n) for n in range(count)] if active else [],
        "address": ADDRESS if active else None,
        "instructions": "The dog is friendly." if active else "",
        "on_site": ON_SITE,
        "updated_at": (at or datetime(2026, 3, 2, 7, 0, tzinfo=UTC)).isoformat(),
        **changes,
    }


def subscription(status: str = "active", count: int = 2, **changes: Any) -> dict[str, Any]:
    return frame("centre_subscription", subscription_payload(status, count, **changes))


def alarm(
    kind: str = "intrusion", active: bool = True, alarm_id: str | None = None
) -> dict[str, Any]:
    return frame(
        "centre_alarm",
        {
            "alarm_id": alarm_id or str(uuid.uuid4()),
            "kind": kind,
            "active": active,
            "device_url": "io://1234-5678-9012/2",
            "device_label": "Door sensor",
            "at": datetime(2026, 3, 2, 8, 1, tzinfo=UTC).isoformat(),
        },
    )


def owner(action: str, case_id: int | None = None) -> dict[str, Any]:
    return frame(
        "centre_owner",
        {
            "case_id": case_id,
            "action": action,
            "at": datetime(2026, 3, 2, 8, 2, tzinfo=UTC).isoformat(),
        },
    )


async def operator_of(core: Core, company_id: int, email: str = "olga@acme.example") -> int:
    async with core.tx() as db:
        company = await db.get(Company, company_id)
        assert company is not None
    user = await make_user(core, company, email, role=Role.OPERATOR)
    return user.id


async def company_of(core: Core, user_id: int) -> int:
    async with core.tx() as db:
        user = await db.get(User, user_id)
        assert user is not None
        return user.company_id


async def cases(core: Core) -> list[tuple[CentreCase, CaseState]]:
    async with core.tx() as db:
        rows = list(await db.scalars(select(CentreCase).order_by(CentreCase.id)))
    return [(row, from_record(json.loads(row.record))) for row in rows]


def parsed(data: dict[str, Any]) -> dict[str, Any]:
    """A frame's payload as the portal's validator gives it to handlers."""
    from companion_server.hub.protocol import parse_frame

    return parse_frame(json.dumps(data)).payload


async def opened_case(
    core: Core, kind: str = "intrusion", *, pin: str = "1234-5678-9012", admin_id: int | None = None
) -> tuple[int, int, int]:
    """A subscribed installation with an open case: (case id, installation id, admin id).

    A new company unless ``admin_id`` names the administrator who registers the box.
    """
    from companion_server.centre import intake, store, subscriptions
    from companion_server.models import Installation
    from companion_server.registration.services import register_box
    from tests.companion.ha import registered

    if admin_id is None:
        reg, admin_id = await registered(core, pin)
    else:
        reg = await register_box(core, admin_id, pin=pin, customer_email="home@example.com")
    async with core.tx() as db:
        installation = await db.get(Installation, reg.installation_id)
        assert installation is not None
        await subscriptions.store(db, installation.id, parsed(subscription()), core.now())
        changes = store.Changes.none()
        await intake.alarm(db, installation, parsed(alarm(kind)), core.now(), changes)
        case_id = await db.scalar(
            select(CentreCase.id).where(CentreCase.installation_id == installation.id)
        )
    assert case_id is not None
    return case_id, reg.installation_id, admin_id
