"""Remote-service windows as values: kinds of action, durations, the installer linked.

A window is granted by the homeowner for at most 8 hours and a set of action kinds, to the
installer company the box is linked to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import TYPE_CHECKING, Any, Final, TypedDict

from homeassistant.util import dt as dt_util

from .portal_client import PortalLink

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from homeassistant.config_entries import ConfigEntry

KIND_PARAMETERS: Final = "parameters"
KIND_REBOOT: Final = "reboot"
KIND_PAIR_REMOTE: Final = "pair_remote"
KIND_WEB_APP: Final = "web_app"
KINDS: Final = (KIND_PARAMETERS, KIND_REBOOT, KIND_PAIR_REMOTE, KIND_WEB_APP)

MIN_HOURS: Final = 0.25
MAX_HOURS: Final = 8.0
DEFAULT_HOURS: Final = 8.0

# Window states of the ``window`` frame.
WINDOW_GRANTED: Final = "granted"
WINDOW_DECLINED: Final = "declined"
WINDOW_REVOKED: Final = "revoked"
WINDOW_EXPIRED: Final = "expired"
# Why a window closed (audit log): the three above, the installer ended the intervention, or
# the installer's link was removed or replaced.
CLOSED_ENDED: Final = "ended"
CLOSED_UNLINKED: Final = "unlinked"


@dataclass(frozen=True, slots=True)
class LinkedInstaller:
    """The installer company the box is linked to in the portal."""

    company_id: str | None
    company: str
    installation_id: str | None = None


def linked_installer(entry: ConfigEntry[Any]) -> LinkedInstaller | None:
    """The installer company this entry is linked to (by "Link an installer"), or None."""
    link = PortalLink.from_entry(entry)
    if link is None or not link.company_name:
        return None
    return LinkedInstaller(
        company_id=link.company_id,
        company=link.company_name,
        installation_id=link.installation_id,
    )


class StoredWindow(TypedDict):
    company: str
    company_id: str | None
    installer: str | None
    granted_at: str
    until: str
    kinds: list[str]
    request_id: str | None


@dataclass(frozen=True, slots=True)
class Window:
    """A remote-service window granted by the homeowner."""

    company: str
    company_id: str | None
    installer: str | None
    granted_at: datetime
    until: datetime
    kinds: tuple[str, ...]
    request_id: str | None

    def is_open(self, now: datetime | None = None) -> bool:
        """Open until ``until`` (exclusive), on Home Assistant's clock."""
        return (now or dt_util.utcnow()) < self.until

    def allows(self, kind: str, now: datetime | None = None) -> bool:
        """Open and granted for this kind of action."""
        return self.is_open(now) and kind in self.kinds

    def who(self) -> dict[str, Any]:
        """The installer, as the audit log records it."""
        return {"company": self.company, "company_id": self.company_id, "name": self.installer}

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (storage, service responses, diagnostics)."""
        return {
            "company": self.company,
            "company_id": self.company_id,
            "installer": self.installer,
            "granted_at": self.granted_at.isoformat(),
            "until": self.until.isoformat(),
            "kinds": list(self.kinds),
            "request_id": self.request_id,
        }

    @classmethod
    def from_stored(cls, stored: StoredWindow) -> Window | None:
        """Read a stored window; None when it cannot be read (it then counts as closed)."""
        granted = dt_util.parse_datetime(stored.get("granted_at", ""))
        until = dt_util.parse_datetime(stored.get("until", ""))
        if granted is None or until is None or not stored.get("company"):
            return None
        kinds = tuple(kind for kind in stored.get("kinds", []) if kind in KINDS)
        # Never trust a stored window longer than the maximum.
        until = min(until, granted + timedelta(hours=MAX_HOURS))
        return cls(
            company=str(stored["company"]),
            company_id=stored.get("company_id"),
            installer=stored.get("installer"),
            granted_at=granted,
            until=until,
            kinds=kinds,
            request_id=stored.get("request_id"),
        )


def normalize_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    """Kinds in their canonical order; all kinds when none are given.

    Raises ValueError naming the first unknown kind.
    """
    if kinds is None:
        return KINDS
    wanted = set()
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(kind)
        wanted.add(kind)
    if not wanted:
        return KINDS
    return tuple(kind for kind in KINDS if kind in wanted)


def valid_hours(hours: float) -> bool:
    """A window lasts from a quarter of an hour to 8 hours."""
    return math.isfinite(hours) and MIN_HOURS <= hours <= MAX_HOURS
