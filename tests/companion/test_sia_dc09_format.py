"""DC-09 bytes without a network: CRC, framing, sequence numbers, event data, AES, answers."""

from __future__ import annotations

from datetime import UTC, datetime

from Crypto.Cipher import AES
from pysiaalarm import SIAAccount
from pysiaalarm.event import SIAEvent
import pytest

from companion_server.centre.sia.answers import AnswerError, AnswerKind, parse_answer
from companion_server.centre.sia.crypto import decrypt, encrypt, random_pad
from companion_server.centre.sia.events import AlarmEvent, AlarmKind, MessageFormat, event_data
from companion_server.centre.sia.framing import (
    FramingError,
    crc16,
    frame,
    next_sequence,
    unframe,
)
from companion_server.centre.sia.messages import event_message, null_message
from companion_server.centre.sia.settings import CentreSettings

KEY = b"0123456789ABCDEF"
NOW = datetime(2026, 11, 28, 9, 5, 7, tzinfo=UTC)


def settings(
    key: bytes | None = None, fmt: MessageFormat = MessageFormat.SIA_DCS
) -> CentreSettings:
    return CentreSettings("127.0.0.1", 1, "AAA", "1", "2", fmt, key)


def test_crc_is_crc16_arc() -> None:
    # The catalogue check value of CRC-16/ARC (the CRC DC-09 specifies) for "123456789".
    assert crc16(b"123456789") == 0xBB3D
    assert crc16(b"") == 0
    # A frame, CRC and length included, as another DC-09 implementation's tests write it.
    body = '"SIA-DCS"0002R1L232#78919[#78919|Nri1/BA012][X012W34.1][Y045N12.2]_14:12:04,09-25-2026'
    assert unframe(b"\n73580056" + body.encode() + b"\r") == body


@pytest.mark.parametrize(
    "body",
    [
        '"SIA-DCS"0002R1L232#78919[1234|NFA129][S123Main St., 55123]_11:10:00,10-12-2019',
        '"NULL"0000R0L0#0[]',
        '"ACK"9999R1L1#ABCDEF0123456789[]',
        '"ADM-CID"0001R1L2#AAA[#AAA|1130 01 015]_09:05:07,11-28-2026',
    ],
)
def test_crc_matches_pysiaalarm(body: str) -> None:
    assert f"{crc16(body.encode()):04X}" == SIAEvent._crc_calc(body)


def test_frame_round_trip_and_refusals() -> None:
    raw = frame('"NULL"0001R1L1#AAA[]')
    assert raw.startswith(b"\n") and raw.endswith(b"\r")
    assert raw[5:9] == b"0014"  # 20 characters, 4 upper-case hex digits
    assert unframe(raw) == '"NULL"0001R1L1#AAA[]'
    assert unframe(raw[1:]) == '"NULL"0001R1L1#AAA[]'  # a receiver that drops the LF
    broken_crc = raw[:1] + (b"0000" if raw[1:5] != b"0000" else b"1111") + raw[5:]
    for bad in (broken_crc, raw.replace(b"0014", b"0015"), b"\nXYZ\r", b"", raw[:-3] + b"]\r"):
        with pytest.raises(FramingError):
            unframe(bad)
    with pytest.raises(FramingError):
        frame('"SIA-DCS"0001R1L1#AAA[' + "x" * 1000)


def test_sequence_numbers_wrap_9999_to_0001() -> None:
    assert next_sequence(1) == 2
    assert next_sequence(9998) == 9999
    assert next_sequence(9999) == 1
    assert next_sequence(0) == 1  # a fresh counter starts at 0001
    with pytest.raises(ValueError, match=r"1\.\.9999"):
        null_message(settings(), sequence=10000, now=NOW)
    with pytest.raises(ValueError, match=r"1\.\.9999"):
        null_message(settings(), sequence=0, now=NOW)


@pytest.mark.parametrize(
    ("kind", "alarm", "restore", "cid"),
    [
        (AlarmKind.BURGLARY, "BA", "BR", "130"),
        (AlarmKind.TAMPER, "TA", "TR", "137"),
        (AlarmKind.PANIC, "PA", "PR", "120"),
        (AlarmKind.FIRE, "FA", "FR", "110"),
    ],
)
def test_event_codes(kind: AlarmKind, alarm: str, restore: str, cid: str) -> None:
    sia, adm = MessageFormat.SIA_DCS, MessageFormat.ADM_CID
    assert event_data(AlarmEvent(kind, area=1, zone=15), sia, "AAA") == f"#AAA|Nri1/{alarm}015"
    assert event_data(AlarmEvent(kind, True, 2, 7), sia, "AAA") == f"#AAA|Nri2/{restore}007"
    assert event_data(AlarmEvent(kind, zone=15), adm, "AAA") == f"#AAA|1{cid} 01 015"
    assert event_data(AlarmEvent(kind, True, 12, 999), adm, "AAA") == f"#AAA|3{cid} 12 999"


@pytest.mark.parametrize(("area", "zone"), [(-1, 0), (100, 0), (1, -1), (1, 1000)])
def test_event_ranges(area: int, zone: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        AlarmEvent(AlarmKind.FIRE, area=area, zone=zone)


def test_plain_message_bytes() -> None:
    message = event_message(
        settings(), AlarmEvent(AlarmKind.BURGLARY, zone=15), sequence=42, now=NOW
    )
    assert unframe(message) == '"SIA-DCS"0042R1L2#AAA[#AAA|Nri1/BA015]_09:05:07,11-28-2026'
    assert unframe(null_message(settings(), sequence=7, now=NOW)) == (
        '"NULL"0007R1L2#AAA[]_09:05:07,11-28-2026'
    )


@pytest.mark.parametrize("key", [KEY, b"0123456789ABCDEF01234567", b"0123456789ABCDEF" * 2])
def test_encrypted_message_is_aes_cbc_zero_iv_with_a_pad(key: bytes) -> None:
    message = event_message(
        settings(key, MessageFormat.ADM_CID), AlarmEvent(AlarmKind.FIRE), sequence=3, now=NOW
    )
    body = unframe(message)
    head, _, hex_part = body.partition("[")
    assert head == '"*ADM-CID"0003R1L2#AAA'
    # Decrypted by another AES implementation (pycryptodome, which pysiaalarm uses).
    plain = AES.new(key, AES.MODE_CBC, bytes(16)).decrypt(bytes.fromhex(hex_part)).decode()
    pad, _, rest = plain.partition("|")
    assert rest == "#AAA|1110 01 000]_09:05:07,11-28-2026"
    assert len(plain) % 16 == 0 and len(pad) < 16
    assert not set(pad) & set("|[]")


def test_pad_is_random_and_decrypt_refuses_garbage() -> None:
    assert len(random_pad(15)) == 15 and random_pad(0) == ""
    assert encrypt("#AAA|Nri1/BA000]", KEY) != encrypt("#AAA|Nri1/BA000]", KEY)
    assert decrypt(encrypt("x]", KEY), KEY).endswith("|x]")  # type: ignore[union-attr]
    assert decrypt("ABC", KEY) is None  # odd hex
    assert decrypt("zz" * 16, KEY) is None  # not hex
    assert decrypt("00" * 15, KEY) is None  # not whole blocks
    assert decrypt("", KEY) is None
    with pytest.raises(ValueError, match="16, 24 or 32"):
        encrypt("x", b"short")


def pysia_answer(message: bytes, key: str | None, **changes: object) -> bytes:
    """What pysiaalarm answers to ``message`` (optionally with its parsed event altered)."""
    parsed = SIAEvent.from_line(
        message.decode().strip(), {"AAA": SIAAccount("AAA", key, allowed_timeband=None)}
    )
    for name, value in changes.items():
        setattr(parsed, name, value)
    return parsed.create_response()


@pytest.mark.parametrize("key", [None, "0123456789ABCDEF"])
def test_pysiaalarm_acks_are_accepted(key: str | None) -> None:
    ours = settings(key.encode() if key else None)
    message = null_message(ours, sequence=12, now=NOW)
    answer = parse_answer(pysia_answer(message, key), ours, 12)
    assert answer.kind is AnswerKind.ACK
    if key:  # the encrypted ACK carries the receiver's clock
        assert answer.receiver_time is not None
    with pytest.raises(AnswerError, match="another message"):
        parse_answer(pysia_answer(message, key), ours, 13)
    other_account = CentreSettings("127.0.0.1", 1, "ABC", "1", "2", ours.message_format, ours.key)
    with pytest.raises(AnswerError, match="another message"):
        parse_answer(pysia_answer(message, key), other_account, 12)


def test_encrypted_ack_must_decrypt_with_our_key() -> None:
    message = null_message(settings(KEY), sequence=1, now=NOW)
    ack = pysia_answer(message, KEY.decode())
    with pytest.raises(AnswerError, match="decrypt"):
        parse_answer(ack, settings(b"FEDCBA9876543210"), 1)
    with pytest.raises(AnswerError, match="encrypted ACK to a plain"):
        parse_answer(ack, settings(), 1)
    plain_ack = frame('"ACK"0001R1L2#AAA[]')
    with pytest.raises(AnswerError, match="plain ACK to an encrypted"):
        parse_answer(plain_ack, settings(KEY), 1)


def test_nak_duh_and_junk() -> None:
    ours = settings()
    message = null_message(ours, sequence=5, now=NOW)
    duh = pysia_answer(message, None, sia_code=None)
    assert duh.startswith(b"\n") and b'"DUH"0005R1L2#AAA[]' in duh
    assert parse_answer(duh, ours, 5).kind is AnswerKind.DUH
    nak = frame('"NAK"0000R0L0A0[]_10:11:12,01-02-2027')
    assert parse_answer(nak, ours, 5).receiver_time == datetime(2027, 1, 2, 10, 11, 12, tzinfo=UTC)
    assert parse_answer(b'"NAK"', ours, 5).kind is AnswerKind.NAK  # bare, unframed
    assert parse_answer(frame('"NAK"0000R0L0A0[]'), ours, 5).receiver_time is None
    for junk in (b'"ACK"', frame('"RSP"0005R1L2#AAA[]'), frame('"ACK"0005R1L2#AAA[x'), b"\n\r"):
        with pytest.raises(AnswerError):
            parse_answer(junk, ours, 5)
