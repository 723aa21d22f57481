"""The homeowner's support plan and services as the portal sends them (``services`` frame).

The wire contract (docs/protocol.md, "services") fixes the values and limits here. Services
and plans travel as the catalogue's stable codes: Home Assistant names them in its own
language, and a code it does not know yet (a newer portal) is kept and shown as sent.
"""

from __future__ import annotations

from datetime import date
import re
from typing import Any, Final

import voluptuous as vol

# The plans of the catalogue, by their codes on the portal, and the sensor's states.
PLAN_PREFIX: Final = "plan_"
PLANS: Final = ("basic", "smart", "premium")
# The services of the catalogue that Home Assistant names (others keep their code).
SERVICES: Final = (
    "sms",
    "neighbours",
    "clips",
    "recording_7d",
    "recording_30d",
    "backup",
    "monitoring",
)
STATE_ACTIVE: Final = "active"
STATE_ENDING: Final = "ending"
MAX_SERVICES: Final = 20
MAX_QUANTITY: Final = 100
MAX_MONTHLY_CENTS: Final = 100_000_000
MAX_DISCOUNT_BASIS_POINTS: Final = 10_000
MAX_PRIORITY: Final = 9
_CODE = re.compile(r"[a-z0-9_]{1,40}")


def _code(value: Any) -> str:
    if type(value) is not str or not _CODE.fullmatch(value):
        raise vol.Invalid("expected a catalogue code")
    return value


def _int(minimum: int, maximum: int) -> Any:
    def check(value: Any) -> int:
        if type(value) is not int or not minimum <= value <= maximum:
            raise vol.Invalid("expected an integer in range")
        return value

    return check


def _day(value: Any) -> str:
    """A calendar day as ``YYYY-MM-DD``."""
    if type(value) is not str or len(value) != 10:
        raise vol.Invalid("expected a date")
    try:
        date.fromisoformat(value)
    except ValueError as err:
        raise vol.Invalid("expected a date") from err
    return value


def _state(value: Any) -> str:
    if type(value) is not str or value not in (STATE_ACTIVE, STATE_ENDING):
        raise vol.Invalid("expected active or ending")
    return value


def _time(value: Any) -> str:
    if type(value) is not str or not 10 <= len(value) <= 40:
        raise vol.Invalid("expected a time")
    return value


_COMMON: Final = {
    vol.Required("code"): _code,
    vol.Required("state"): _state,
    vol.Required("ends_on"): vol.Any(None, _day),
    vol.Required("monthly_price_cents"): _int(0, MAX_MONTHLY_CENTS),
}
SERVICE = vol.Schema(
    {
        **_COMMON,
        vol.Required("started_on"): _day,
        vol.Required("period_end"): _day,
        vol.Required("quantity"): _int(1, MAX_QUANTITY),
    },
    extra=vol.REMOVE_EXTRA,
)
PLAN = vol.Schema(
    {
        **_COMMON,
        vol.Required("period_end"): vol.Any(None, _day),
        vol.Required("discount_basis_points"): _int(0, MAX_DISCOUNT_BASIS_POINTS),
        vol.Required("priority"): _int(0, MAX_PRIORITY),
    },
    extra=vol.REMOVE_EXTRA,
)
PAYLOAD = vol.Schema(
    {
        vol.Required("at"): _time,
        vol.Required("plan"): PLAN,
        vol.Required("services"): vol.All([SERVICE], vol.Length(max=MAX_SERVICES)),
    },
    extra=vol.REMOVE_EXTRA,
)


def plan_state(plan: dict[str, Any] | None) -> str | None:
    """The plan sensor's state: the plan's name without its prefix, if Home Assistant knows it."""
    if plan is None:
        return None
    name = str(plan["code"]).removeprefix(PLAN_PREFIX)
    return name if name in PLANS else None


def euros(cents: int) -> float:
    """An amount in cents as euros."""
    return cents / 100
