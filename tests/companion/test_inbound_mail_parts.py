"""Tickets by e-mail, piece by piece: reading headers, the refusal texts, the settings."""

from __future__ import annotations

import pytest

from companion_server.mail.outbox import MailKind, render
from companion_server.settings import Settings, SettingsError
from companion_server.tickets.inbound.intake import Refusal
from companion_server.tickets.inbound.message import read


def _raw(*headers: str, body: str = "Hello") -> bytes:
    lines = ["From: Hana <hana@example.com>", "Subject: Help", *headers, "", body]
    return "\r\n".join(lines).encode()


@pytest.mark.parametrize(
    ("header", "failed"),
    [
        ("relay.example; dkim=pass header.d=example.com; spf=pass", False),
        ("relay.example; dkim=fail (signature did not verify) header.d=example.com", True),
        ("relay.example; spf=fail smtp.mailfrom=example.com", True),
        ("relay.example; dkim=permerror header.d=example.com", True),
        ("relay.example; spf=softfail; dkim=none", False),
        ("relay.example; arc=fail; dmarc=pass", False),  # only DKIM and SPF count
        ("relay.example; none", False),
        ("dkim=fail.example; spf=pass", False),  # an authserv-id is not a result
    ],
)
def test_authentication_results(header: str, failed: bool) -> None:
    incoming = read(_raw(f"Authentication-Results: {header}"), "hana@example.com")
    assert incoming.authentication_failed is failed


def test_one_failed_check_among_several_headers_counts() -> None:
    raw = _raw(
        "Authentication-Results: mx.example; dkim=pass",
        "Authentication-Results: relay.example; spf=fail",
    )
    assert read(raw, "hana@example.com").authentication_failed


@pytest.mark.parametrize(
    "subject",
    ["Shutter stuck", "Re: shutter  STUCK", "RE[2]: Fwd:  Shutter stuck ", "AW: WG: shutter stuck"],
)
def test_subjects_are_compared_without_prefixes_spaces_or_case(subject: str) -> None:
    raw = _raw().replace(b"Subject: Help", f"Subject: {subject}".encode())
    assert read(raw, "hana@example.com").normalized_subject == "shutter stuck"


def test_ticket_numbers_and_pins_are_found() -> None:
    raw = _raw(body="Boxes 1234-5678-9012 and 999988887777, not 12345-678-9012.")
    raw = raw.replace(b"Subject: Help", b"Subject: Re: Ticket T-000042: in progress")
    incoming = read(raw, "hana@example.com")
    assert incoming.ticket_number == "T-000042"
    assert incoming.named_pins() == ["1234-5678-9012", "9999-8888-7777"]
    assert read(_raw(), "hana@example.com").ticket_number is None


def test_every_refusal_is_explained_in_every_language() -> None:
    for language in ("en", "fr", "es", "sk"):
        bodies = set()
        for refusal in Refusal:
            subject, body = render(
                MailKind.INBOUND_REFUSED, language, reason=refusal.value, subject="Help {x}"
            )
            assert "Help {x}" in body and subject
            bodies.add(body)
        assert len(bodies) == len(Refusal), language


@pytest.mark.parametrize(
    "changes",
    [{"inbound_smtp_port": 70000}, {"inbound_mail_max_bytes": 10}, {"inbound_dedupe_minutes": 0}],
)
def test_inbound_settings_are_checked(changes: dict[str, int]) -> None:
    with pytest.raises(SettingsError):
        Settings(**changes)  # type: ignore[arg-type]


def test_inbound_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {"COMPANION_INBOUND_SMTP": "on", "COMPANION_INBOUND_SMTP_PORT": "0"}
    )
    assert settings.inbound_smtp and settings.inbound_smtp_port == 0
    assert not Settings().inbound_smtp  # off unless asked for
