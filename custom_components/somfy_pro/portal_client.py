"""The installer portal's HTTP side: the link kept in the entry, linking, unlinking, backoff.

Linking exchanges a registration code (and the box PIN) for an installation token; the link
is kept in the config entry's data under ``CONF_PORTAL`` and read back as a ``PortalLink``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from http import HTTPStatus
import random
from typing import TYPE_CHECKING, Any, Final

from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    from aiohttp import ClientSession
    from homeassistant.config_entries import ConfigEntry

# Key of the link in the config entry's data.
CONF_PORTAL: Final = "portal"

HTTP_TIMEOUT: Final = ClientTimeout(total=15)
BACKOFF_MIN: Final = 1.0
BACKOFF_MAX: Final = 300.0


class PortalError(Exception):
    """The portal cannot be reached or answered unexpectedly."""


class PortalConnectionError(PortalError):
    """The portal cannot be reached."""


class InvalidCodeError(PortalError):
    """Wrong, used or expired code, or a PIN that does not match."""


class RateLimitedError(PortalError):
    """Too many attempts: the portal asks to wait."""


class PortalAuthError(PortalError):
    """The portal no longer accepts the installation token (unlinked on its side)."""


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What ``POST /api/v1/link`` answers."""

    installation_id: str
    token: str
    company_id: str
    company_name: str


@dataclass(frozen=True, slots=True)
class PortalLink:
    """The link of a box to an installer's portal, as the entry's data keeps it."""

    url: str
    token: str
    installation_id: str | None = None
    company_id: str | None = None
    company_name: str = ""
    instance_id: str | None = None

    @classmethod
    def from_entry(cls, entry: ConfigEntry[Any]) -> PortalLink | None:
        """The entry's link, or None when the box is not linked."""
        return cls.from_data(entry.data.get(CONF_PORTAL))

    @classmethod
    def from_data(cls, data: Any) -> PortalLink | None:
        """Read the link stored in the entry's data (None when there is none)."""
        if not isinstance(data, dict):
            return None
        return cls(
            url=str(data.get("url") or ""),
            token=str(data.get("token") or ""),
            installation_id=_text(data.get("installation_id")),
            company_id=_text(data.get("company_id")),
            company_name=str(data.get("company_name") or ""),
            instance_id=_text(data.get("instance_id")),
        )

    def as_data(self) -> dict[str, Any]:
        """The form kept in the entry's data."""
        return asdict(self)

    def with_company(self, company_id: str, company_name: str) -> PortalLink:
        """The same link, with the company as the portal names it now."""
        return PortalLink(
            url=self.url,
            token=self.token,
            installation_id=self.installation_id,
            company_id=company_id,
            company_name=company_name,
            instance_id=self.instance_id,
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def entry_data_with_link(data: Mapping[str, Any], link: PortalLink | None) -> dict[str, Any]:
    """The entry's data with ``link`` stored in it (or the link removed when None)."""
    updated = dict(data)
    if link is None:
        updated.pop(CONF_PORTAL, None)
    else:
        updated[CONF_PORTAL] = link.as_data()
    return updated


def normalize_url(url: str) -> str:
    """``https://portal.example/`` -> ``https://portal.example``."""
    return url.strip().rstrip("/")


async def async_link(
    session: ClientSession, url: str, code: str, pin: str, instance_id: str, name: str
) -> LinkResult:
    """Exchange a registration code (and the box PIN) for an installation token."""
    body = {"code": code.strip(), "pin": pin, "instance_id": instance_id, "name": name}
    try:
        async with session.post(
            f"{normalize_url(url)}/api/v1/link", json=body, timeout=HTTP_TIMEOUT
        ) as response:
            if response.status == HTTPStatus.TOO_MANY_REQUESTS:
                raise RateLimitedError("rate limited")
            if response.status in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND):
                raise InvalidCodeError("invalid code")
            if response.status != HTTPStatus.OK:
                raise PortalConnectionError(f"HTTP {response.status}")
            data = await response.json(content_type=None)
    except (ClientError, TimeoutError, ValueError) as err:
        raise PortalConnectionError(str(err) or type(err).__name__) from err
    try:
        company = data["company"]
        return LinkResult(
            installation_id=str(data["installation_id"]),
            token=str(data["token"]),
            company_id=str(company["id"]),
            company_name=str(company["name"]),
        )
    except (KeyError, TypeError) as err:
        raise PortalConnectionError("unexpected answer") from err


async def async_unlink(session: ClientSession, url: str, token: str) -> None:
    """Tell the portal to forget the link (its token stops working)."""
    try:
        async with session.post(
            f"{normalize_url(url)}/api/v1/unlink",
            headers={"Authorization": f"Bearer {token}"},
            timeout=HTTP_TIMEOUT,
        ) as response:
            if response.status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
                return  # already forgotten there
            if response.status >= 400:
                raise PortalConnectionError(f"HTTP {response.status}")
    except (ClientError, TimeoutError) as err:
        raise PortalConnectionError(str(err) or type(err).__name__) from err


def backoff_delay(attempt: int) -> float:
    """Seconds before reconnection attempt ``attempt`` (0-based).

    1 s doubling to 5 min, with jitter: between half and all of it.
    """
    ceiling = min(BACKOFF_MAX, BACKOFF_MIN * 2.0 ** min(attempt, 16))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))
