"""A company's centre settings: what a form may submit, and the translated errors otherwise."""

from __future__ import annotations

import pytest

from companion_server.centre.sia.events import MessageFormat
from companion_server.centre.sia.settings import MESSAGES, CentreSettings, parse_centre_settings
from companion_server.errors import ValidationFailed
from companion_server.i18n import LANGUAGES, translator

VALID = {"host": "arc.example.com", "port": "9000", "account": "1234ab"}


def test_defaults_and_normal_forms() -> None:
    parsed = parse_centre_settings(VALID)
    assert parsed == CentreSettings(
        "arc.example.com", 9000, "1234AB", "0", "0", MessageFormat.SIA_DCS, None
    )
    full = parse_centre_settings(
        {
            "host": " 2001:DB8::1 ",
            "port": 12128,
            "account": "ABCDEF0123456789",
            "receiver": "12ab",
            "line": "3",
            "key": "00112233445566778899aabbccddeeff",
            "message_format": "ADM-CID",
            "csrf": "ignored",
        }
    )
    assert (full.host, full.port, full.receiver, full.line) == ("2001:db8::1", 12128, "12AB", "3")
    assert full.key == bytes.fromhex("00112233445566778899aabbccddeeff")
    assert full.message_format is MessageFormat.ADM_CID
    assert "key" not in repr(full) and "0011" not in repr(full)  # never in a log line
    assert parse_centre_settings({**VALID, "key": ""}).key is None
    assert parse_centre_settings({**VALID, "host": "10.0.0.7"}).host == "10.0.0.7"


@pytest.mark.parametrize("length", [16, 24, 32])
def test_every_aes_key_length(length: int) -> None:
    key = bytes(range(length))
    assert parse_centre_settings({**VALID, "key": key.hex()}).key == key


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account", "12"),  # too short
        ("account", "1" * 17),  # too long: DC-09 allows 16 digits
        ("account", "12G4"),  # not hexadecimal
        ("account", "١٢٣٤"),  # Arabic-Indic digits
        ("account", ""),
        ("account", 1234),
        ("host", ""),
        ("host", "arc example.com"),
        ("host", "arc.example.com\r\nX: y"),
        ("host", "-arc.example.com"),
        ("host", "a" * 254),
        ("port", "0"),
        ("port", "65536"),
        ("port", "http"),
        ("port", True),
        ("receiver", "1234567"),
        ("receiver", "R1"),
        ("line", ""),
        ("line", "L1"),
        ("key", "0011"),  # 2 bytes
        ("key", "00" * 20),  # 20 bytes: no AES key has that length
        ("key", "0" * 33),  # odd number of digits
        ("key", "zz" * 16),
        ("message_format", "CID"),
        ("message_format", ""),
    ],
)
def test_invalid_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_centre_settings({**VALID, field: value})
    assert caught.value.errors == {field: MESSAGES[field]}


def test_missing_and_several_wrong_fields() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_centre_settings({"account": "1" * 17, "port": "x"})
    assert caught.value.errors == {
        "host": MESSAGES["host"],
        "port": MESSAGES["port"],
        "account": MESSAGES["account"],
    }
    assert caught.value.errors["account"] == (
        "The account number has 3 to 16 hexadecimal digits (0-9, A-F)."
    )


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_errors_are_translated(language: str) -> None:
    translate = translator(language)
    for message in MESSAGES.values():
        assert translate(message) != message
