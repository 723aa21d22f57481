"""The receiving centre's answers: ``ACK``, ``NAK`` and ``DUH``, checked against what we sent.

- ``ACK``: accepted. It must echo the message's sequence number and account; to an
  encrypted message it is itself encrypted (``"*ACK"``) and must decrypt with our key.
- ``NAK``: refused (unreadable, undecryptable, unknown account, or a timestamp outside the
  receiver's window). It is never encrypted and carries the receiver's clock, which lets
  a transmitter whose clock is wrong correct it.
- ``DUH``: read but not understood (e.g. an event code the receiver does not know).
  pysiaalarm also answers it, now and then, to a message encrypted with another key: it
  parses whatever the decryption gives, and random garbage sometimes ends like a data
  block without a known code. So a DUH too may mean a wrong key.

Some receivers answer a message they cannot place with a bare, unframed ``"NAK"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import re
from typing import TYPE_CHECKING, Final

from companion_server.centre.sia.crypto import decrypt
from companion_server.centre.sia.framing import TIMESTAMP_RE, parse_timestamp, unframe

if TYPE_CHECKING:
    from datetime import datetime

    from companion_server.centre.sia.settings import CentreSettings

_TS = TIMESTAMP_RE.pattern
BARE_NAK: Final = re.compile(rb'\s*"NAK"\s*')
_NAK = re.compile(rf'"NAK"\d{{4}}[^\[]*\[[^\]]*\](?:{_TS})?')
_REPLY = re.compile(
    r'"(?P<star>\*?)(?P<kind>ACK|DUH)"(?P<sequence>\d{4})'
    r"(?:R[0-9A-Fa-f]{1,6})?(?:L[0-9A-Fa-f]{1,6})?#(?P<account>[0-9A-Fa-f]{3,16})"
    r"\[(?P<rest>.*)"
)
# After ``[``: an optional pad and ``|``, an optional response qualifier, ``]``, extended
# data, the timestamp. Encrypted, the same text is the plain text of the hex.
_ACK_DATA = re.compile(rf"(?:[^|\[\]]*\|)?[^|\[\]]*\](?:\[[^\[\]]*\])*(?:{_TS})?")


class AnswerKind(StrEnum):
    """What the receiver said."""

    ACK = "ACK"
    NAK = "NAK"
    DUH = "DUH"


@dataclass(frozen=True, slots=True)
class Answer:
    """A valid answer to our message, with the receiver's clock when it sent one."""

    kind: AnswerKind
    receiver_time: datetime | None = None


class AnswerError(ValueError):
    """Bytes that are no valid answer to the message we sent."""


def parse_answer(data: bytes, settings: CentreSettings, sequence: int) -> Answer:
    """The answer in ``data`` to our message ``sequence``; :class:`AnswerError` otherwise."""
    if BARE_NAK.fullmatch(data):
        return Answer(AnswerKind.NAK)
    try:
        body = unframe(data)
    except ValueError as err:
        raise AnswerError(str(err)) from err
    if nak := _NAK.fullmatch(body):
        return Answer(AnswerKind.NAK, _time(nak.group(1)))
    reply = _REPLY.fullmatch(body)
    if reply is None:
        raise AnswerError("not an ACK, NAK or DUH")
    if int(reply["sequence"]) != sequence or reply["account"].upper() != settings.account:
        raise AnswerError("the answer is for another message")
    if reply["kind"] == AnswerKind.DUH:
        return Answer(AnswerKind.DUH)
    return Answer(AnswerKind.ACK, _ack_time(reply, settings))


def _ack_time(reply: re.Match[str], settings: CentreSettings) -> datetime | None:
    rest = reply["rest"]
    if settings.key is None:
        if reply["star"]:
            raise AnswerError("an encrypted ACK to a plain message")
    else:
        if not reply["star"]:
            raise AnswerError("a plain ACK to an encrypted message")
        plain = decrypt(rest, settings.key)
        if plain is None:
            raise AnswerError("the ACK does not decrypt with our key")
        rest = plain
    data = _ACK_DATA.fullmatch(rest)
    if data is None:
        raise AnswerError("the ACK's data is malformed")
    return _time(data.group(1))


def _time(stamp: str | None) -> datetime | None:
    return parse_timestamp(stamp) if stamp else None
