"""The messages a transmitter sends: an event, or the ``NULL`` link test."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from companion_server.centre.sia.crypto import PadSource, encrypt, random_pad
from companion_server.centre.sia.events import AlarmEvent, event_data
from companion_server.centre.sia.framing import (
    MAX_SEQUENCE,
    MIN_SEQUENCE,
    format_timestamp,
    frame,
)

if TYPE_CHECKING:
    from datetime import datetime

    from companion_server.centre.sia.settings import CentreSettings

NULL_ID: Final = "NULL"


def build_message(
    settings: CentreSettings,
    token: str,
    data: str,
    *,
    sequence: int,
    now: datetime,
    pad: PadSource = random_pad,
) -> bytes:
    """One framed message: ``"id"seq R L #acct[data]_timestamp``, encrypted with a key.

    Encrypted, the id gets a ``*`` and everything after ``[`` is the hex of
    ``pad|data]_timestamp``. The timestamp is always sent: DC-09 requires it when
    encrypted, and receivers use it to refuse replayed or delayed messages.
    """
    if not MIN_SEQUENCE <= sequence <= MAX_SEQUENCE:
        raise ValueError("sequence must be 1..9999")
    tail = f"{data}]{format_timestamp(now)}"
    star = ""
    if settings.key is not None:
        star = "*"
        tail = encrypt(tail, settings.key, pad)
    head = f'"{star}{token}"{sequence:04d}R{settings.receiver}L{settings.line}#{settings.account}['
    return frame(head + tail)


def event_message(
    settings: CentreSettings,
    event: AlarmEvent,
    *,
    sequence: int,
    now: datetime,
    pad: PadSource = random_pad,
) -> bytes:
    """The message reporting ``event`` in the company's format."""
    data = event_data(event, settings.message_format, settings.account)
    return build_message(
        settings, settings.message_format.value, data, sequence=sequence, now=now, pad=pad
    )


def null_message(
    settings: CentreSettings, *, sequence: int, now: datetime, pad: PadSource = random_pad
) -> bytes:
    """The ``NULL`` message (empty data) that tests the link and supervises it."""
    return build_message(settings, NULL_ID, "", sequence=sequence, now=now, pad=pad)
