"""The installation behind a Home Assistant's bearer token (the channel and the API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from companion_server.models import Company, Installation, InstallationLink
from companion_server.security.tokens import hash_token

if TYPE_CHECKING:
    from aiohttp import web

    from companion_server.core import Core


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The installation behind a bearer token."""

    link_id: int
    installation_id: int
    company_id: int
    company_name: str
    box_pin: str


# Built once: a handshake storm runs it thousands of times a second (binds only).
_LIVE_LINK = (
    select(
        InstallationLink.id,
        Installation.id,
        Company.id,
        Company.name,
        Installation.box_pin,
    )
    .join(Installation, Installation.id == InstallationLink.installation_id)
    .join(Company, Company.id == Installation.company_id)
    .where(
        InstallationLink.token_hash == bindparam("token_hash"),
        InstallationLink.revoked_at.is_(None),
    )
)


async def authenticate(core: Core, token: str) -> Authenticated | None:
    """The live link of a bearer token, or None (unknown, revoked or unlinked)."""
    if not token or len(token) > 200:
        return None
    async with core.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # One statement that only reads: no BEGIN and ROLLBACK around it (two round
            # trips). SQLite's reads open no transaction anyway.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        row = (await conn.execute(_LIVE_LINK, {"token_hash": hash_token(token)})).first()
    if row is None:
        return None
    link_id, installation_id, company_id, company_name, box_pin = row._tuple()
    return Authenticated(link_id, installation_id, company_id, company_name, box_pin or "")


def bearer(request: web.Request) -> str:
    """The bearer token of a request ("" when none)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
