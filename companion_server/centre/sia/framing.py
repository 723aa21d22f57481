"""DC-09 framing: ``<LF>crc 0LLL "id"seq R.. L.. #acct[...]<CR>``, CRC, length, timestamps.

The CRC is CRC-16/ARC (polynomial 0x8005 reflected, initial value 0), computed over the
message from the opening quote of the id token to the character before ``<CR>``; the
length field is that same span's length in 4 upper-case hex digits.
"""

from __future__ import annotations

from datetime import UTC, datetime
import re
from typing import Final

LF: Final = b"\n"
CR: Final = b"\r"
MIN_SEQUENCE: Final = 1
MAX_SEQUENCE: Final = 9999
# Receivers read a message in one go (pysiaalarm reads at most 1000 bytes, LF, header and CR
# included); our messages are far shorter, so anything larger is refused before it is sent.
MAX_BODY: Final = 1000 - 10
TIMESTAMP_FORMAT: Final = "%H:%M:%S,%m-%d-%Y"
TIMESTAMP_RE: Final = re.compile(r"_(\d{2}:\d{2}:\d{2},\d{2}-\d{2}-\d{4})")
_HEADER = re.compile(rb"\n?([0-9A-Fa-f]{4})([0-9A-Fa-f]{4})(\".*)", re.DOTALL)


class FramingError(ValueError):
    """Bytes that are not one well-formed DC-09 frame (bad CRC, length or shape)."""


def crc16(data: bytes) -> int:
    """CRC-16/ARC of ``data``, the check DC-09 puts in front of every message."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame(body: str) -> bytes:
    """The bytes on the wire for ``body`` (from the id token's opening quote on)."""
    raw = body.encode("ascii")
    if len(raw) > MAX_BODY:
        raise FramingError("message too long")
    return LF + f"{crc16(raw):04X}{len(raw):04X}".encode("ascii") + raw + CR


def unframe(data: bytes) -> str:
    """The body of one frame, after checking its CRC and length.

    ``data`` is what arrived up to and including ``<CR>``; the leading ``<LF>`` may be
    missing (some receivers drop it).
    """
    match = _HEADER.fullmatch(data.strip(b"\r\n"))
    if match is None:
        raise FramingError("not a DC-09 frame")
    crc, length, raw = match.groups()
    if int(length, 16) != len(raw):
        raise FramingError("length does not match")
    if int(crc, 16) != crc16(raw):
        raise FramingError("CRC does not match")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as err:
        raise FramingError("not ASCII") from err


def next_sequence(sequence: int) -> int:
    """The sequence number after ``sequence``: 0001 to 9999, then 0001 again."""
    return sequence + 1 if MIN_SEQUENCE <= sequence < MAX_SEQUENCE else MIN_SEQUENCE


def format_timestamp(moment: datetime) -> str:
    """``_HH:MM:SS,MM-DD-YYYY`` in UTC, as DC-09 ends a message."""
    return "_" + moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime | None:
    """The UTC time of a ``HH:MM:SS,MM-DD-YYYY`` stamp, or None when it is not one."""
    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
