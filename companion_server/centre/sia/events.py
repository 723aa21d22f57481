"""The alarm events sent to a centre and their codes in SIA DCS and Contact ID."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_AREA: Final = 99
MAX_ZONE: Final = 999


class AlarmKind(StrEnum):
    """What happened at the installation."""

    BURGLARY = "burglary"
    TAMPER = "tamper"
    PANIC = "panic"
    FIRE = "fire"


class MessageFormat(StrEnum):
    """The DC-09 id token, which says how the event data is written."""

    SIA_DCS = "SIA-DCS"
    ADM_CID = "ADM-CID"


@dataclass(frozen=True, slots=True)
class Codes:
    """One kind's SIA DCS alarm and restore codes and its Contact ID event code."""

    sia_alarm: str
    sia_restore: str
    contact_id: int


CODES: Final[Mapping[AlarmKind, Codes]] = {
    AlarmKind.BURGLARY: Codes("BA", "BR", 130),
    AlarmKind.TAMPER: Codes("TA", "TR", 137),
    AlarmKind.PANIC: Codes("PA", "PR", 120),
    AlarmKind.FIRE: Codes("FA", "FR", 110),
}
# Contact ID event qualifiers: 1 a new event (alarm), 3 a restore.
CID_EVENT: Final = 1
CID_RESTORE: Final = 3


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """An alarm or its restore, in an area (partition) and a zone of the installation."""

    kind: AlarmKind
    restore: bool = False
    area: int = 1
    zone: int = 0

    def __post_init__(self) -> None:
        """Refuse what neither format can carry (Contact ID: 2-digit area, 3-digit zone)."""
        if not 0 <= self.area <= MAX_AREA:
            raise ValueError(f"area must be 0..{MAX_AREA}")
        if not 0 <= self.zone <= MAX_ZONE:
            raise ValueError(f"zone must be 0..{MAX_ZONE}")


def event_data(event: AlarmEvent, message_format: MessageFormat, account: str) -> str:
    """The data of the message, between ``[`` and ``]``.

    SIA DCS: ``#acct|Nri<area>/<code><zone>``; Contact ID: ``#acct|<q><eee> <pp> <zzz>``.
    """
    codes = CODES[event.kind]
    if message_format is MessageFormat.SIA_DCS:
        code = codes.sia_restore if event.restore else codes.sia_alarm
        return f"#{account}|Nri{event.area}/{code}{event.zone:03d}"
    qualifier = CID_RESTORE if event.restore else CID_EVENT
    return f"#{account}|{qualifier}{codes.contact_id:03d} {event.area:02d} {event.zone:03d}"
