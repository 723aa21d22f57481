"""The portal's HTTP side for the homeowner: a customer account, and tickets.

Both calls carry the installation token (``docs/protocol.md``, "Linking and customer
accounts"): the invitation goes to the address the box was linked with, and a ticket is
opened as the customer who owns the box. A refusal is a ``PortalRefusedError`` whose
``reason`` is the portal's error code; anything unexpected is ``PortalConnectionError``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import ClientError

from .portal_client import HTTP_TIMEOUT, PortalConnectionError, PortalError, normalize_url

if TYPE_CHECKING:  # pragma: no cover
    from aiohttp import ClientSession

    from .portal_client import PortalLink

INVITATION_SENT: Final = "sent"
INVITATION_ADDED: Final = "added"
# The refusals the portal answers with a code, per call.
INVITATION_REFUSALS: Final = frozenset({"no_address", "staff_address", "rate_limited"})
TICKET_REFUSALS: Final = frozenset(
    {"no_customer", "wrong_box", "invalid_ticket", "invalid_request", "rate_limited"}
)
REFUSED_TOKEN: Final = "invalid_token"  # noqa: S105 - an error code, not a secret


class PortalRefusedError(PortalError):
    """The portal answered with a reason (``no_customer``, ``rate_limited`` ...)."""

    def __init__(self, reason: str) -> None:
        """Keep the portal's error code."""
        super().__init__(reason)
        self.reason = reason


async def _post(
    session: ClientSession, link: PortalLink, path: str, body: Any, refusals: frozenset[str]
) -> dict[str, Any]:
    try:
        async with session.post(
            f"{normalize_url(link.url)}{path}",
            json=body,
            headers={"Authorization": f"Bearer {link.token}"},
            timeout=HTTP_TIMEOUT,
        ) as response:
            data = await response.json(content_type=None)
            status = response.status
    except (ClientError, TimeoutError, ValueError) as err:
        raise PortalConnectionError(str(err) or type(err).__name__) from err
    error = data.get("error") if isinstance(data, dict) else None
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
        raise PortalRefusedError(REFUSED_TOKEN)
    if status >= 400 and error in refusals:
        raise PortalRefusedError(str(error))
    if status >= 300 or not isinstance(data, dict):
        raise PortalConnectionError(f"HTTP {status}")
    return data


async def async_invite_customer(session: ClientSession, link: PortalLink) -> str:
    """Have the portal e-mail the link's address an invitation; ``sent`` or ``added``."""
    data = await _post(session, link, "/api/v1/customer-invitation", None, INVITATION_REFUSALS)
    result = data.get("result")
    if result not in (INVITATION_SENT, INVITATION_ADDED):
        raise PortalConnectionError("unexpected answer")
    return str(result)


async def async_create_ticket(
    session: ClientSession, link: PortalLink, body: dict[str, Any]
) -> tuple[str, str]:
    """Open a ticket for the box's customer; its number and its page on the portal."""
    data = await _post(session, link, "/api/v1/tickets", body, TICKET_REFUSALS)
    number, url = data.get("number"), data.get("url")
    if not isinstance(number, str) or not isinstance(url, str):
        raise PortalConnectionError("unexpected answer")
    return number, url
