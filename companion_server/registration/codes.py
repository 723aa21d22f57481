"""Validation codes: their format, their stored form, and who may still use a box's PIN.

A code carries 50 random bits (``XXXXX-XXXXX``, Crockford base 32), lives 7 days, is used
once, and is stored as an HMAC keyed with the portal's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from companion_server.models import Installation, RegistrationStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: 5 bits a character
CODE_LENGTH = 10  # 50 bits
CODE_DAYS = 7
MAX_CODE_ATTEMPTS = 5


def new_code() -> str:
    """A fresh validation code, ``XXXXX-XXXXX`` (50 random bits)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{chars[:5]}-{chars[5:]}"


def normalize_code(raw: str) -> str:
    """The canonical characters of a code as typed (case, dashes, O/0 and I/L/1 forgiven)."""
    text = raw.upper().translate(str.maketrans("OIL", "011"))
    return "".join(ch for ch in text if ch in CODE_ALPHABET)[:64]


def code_hash(secret: str, raw: str) -> str:
    """The stored form of a code: HMAC-SHA256 keyed with the portal's secret."""
    return hmac.new(secret.encode(), normalize_code(raw).encode(), hashlib.sha256).hexdigest()


async def pin_linked_elsewhere(db: AsyncSession, pin: str, company_id: int) -> bool:
    row = await db.scalar(
        select(Installation.id)
        .where(
            Installation.box_pin == pin,
            Installation.company_id != company_id,
            Installation.status == RegistrationStatus.LINKED.value,
        )
        .limit(1)
    )
    return row is not None
