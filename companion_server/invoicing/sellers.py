"""The company's seller details printed on its invoices (administrators set them).

Checked with ``python-stdnum``: the EU VAT number, the IBAN and the BIC.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from stdnum import bic, iban
from stdnum.eu import vat

from companion_server.errors import ValidationFailed
from companion_server.models import SellerProfile
from companion_server.parsing import has_control_characters, parse_int

if TYPE_CHECKING:
    from companion_server.core import Core

LIMITS = {"legal_name": 200, "street": 200, "postcode": 20, "city": 100}
RATE = re.compile(r"(\d{1,2}|100)(?:[.,](\d{1,2}))?")


async def seller(core: Core, company_id: int) -> SellerProfile | None:
    """The company's details, if set."""
    async with core.tx() as db:
        return await db.get(SellerProfile, company_id)


def _rate(raw: str) -> int | None:
    match = RATE.fullmatch(raw.strip())
    if match is None:
        return None
    value = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    return value if value <= 10000 else None


def _clean(values: dict[str, str]) -> dict[str, str | int]:
    errors: dict[str, str] = {}
    clean: dict[str, str | int] = {}
    for name, limit in LIMITS.items():
        text = values.get(name, "").strip()
        if not text or len(text) > limit or has_control_characters(text):
            errors[name] = "Enter this field (no more than the allowed length)."
        clean[name] = text
    country = values.get("country", "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        errors["country"] = "Enter the country as two letters (FR, SK, ES...)."
    vat_id = values.get("vat_id", "")
    if not vat.is_valid(vat_id):
        errors["vat_id"] = "Enter a valid EU VAT number."
    account = values.get("iban", "")
    if not iban.is_valid(account):
        errors["iban"] = "Enter a valid IBAN."
    code = values.get("bic", "").strip()
    if code and not bic.is_valid(code):
        errors["bic"] = "Enter a valid BIC or leave it empty."
    rate = _rate(values.get("vat_rate", ""))
    if rate is None:
        errors["vat_rate"] = "Enter the VAT rate in percent (0 to 100)."
    days = parse_int(values.get("payment_days", "").strip(), 0, 120)
    if days is None:
        errors["payment_days"] = "Enter the days to pay (0 to 120)."
    if errors:
        raise ValidationFailed(errors)
    clean |= {
        "country": country,
        "vat_id": str(vat.compact(vat_id)),
        "iban": str(iban.compact(account)),
        "bic": str(bic.compact(code)) if code else "",
        "vat_rate_basis_points": rate or 0,
        "payment_days": days or 0,
    }
    return clean


async def save_seller(core: Core, company_id: int, values: dict[str, str]) -> None:
    """Store the details (they apply to invoices issued from now on, never to issued ones)."""
    clean = _clean(values)
    async with core.tx() as db:
        profile = await db.get(SellerProfile, company_id)
        if profile is None:
            profile = SellerProfile(company_id=company_id)
            db.add(profile)
        for name, value in clean.items():
            setattr(profile, name, value)
        profile.updated_at = core.now()
