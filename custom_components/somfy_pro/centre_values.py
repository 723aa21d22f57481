"""The monitoring centre's vocabulary on the Home Assistant side, and its pure checks.

The wire contract (docs/protocol.md, "centre_*" frames) fixes the values and limits here;
the homeowner's configuration lives in the entry's options under ``centre`` (see
``centre_flow``), with passwords only as scrypt hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from typing import Any, Final

import phonenumbers

STATUS_ACTIVE: Final = "active"
STATUS_STOPPED: Final = "stopped"

CONTACT_OWNER: Final = "owner"
CONTACT_HA_USER: Final = "ha_user"
CONTACT_OUTSIDE: Final = "outside"
CONTACT_NONE: Final = "none"

# Alerts of Home Assistant that the centre handles (the others stay with the installer).
CENTRE_KINDS: Final = ("intrusion", "aggression", "tamper", "fire")
PHASES: Final = (
    "calling",
    "leaving_message",
    "waiting",
    "assessing",
    "confirming",
    "identified",
    "guard_required",
    "guard_dispatched",
    "closed",
)
CASE_NONE: Final = "none"
REACHED: Final = ("first", "second")
GUARDS: Final = ("none", "required", "dispatched", "finished")
OUTCOMES: Final = ("false_alarm", "owner_cancelled", "guard_checked")
ACTIONS: Final = (
    "identified",
    "wrong_identification",
    "no_answer",
    "message_left",
    "no_voicemail",
    "situation_normal",
    "situation_abnormal",
    "false_alarm",
    "dispatch_guard",
    "guard_finished",
    "second_round",
    "new_alert",
    "owner_cancel",
    "owner_cancel_refused",
    "owner_duress",
)
ACTORS: Final = ("operator", "home_assistant", "timer")

OWNER_CANCEL: Final = "owner_cancel"
OWNER_CANCEL_REFUSED: Final = "owner_cancel_refused"
OWNER_DURESS: Final = "owner_duress"

# What the configuration lacks, in the order the homeowner fixes it (M8).
MISSING_FIRST_CONTACT: Final = "missing_first_contact"
MISSING_PHONE: Final = "missing_phone"
MISSING_PASSWORD: Final = "missing_password"  # noqa: S105 (a state, not a password)
MISSING_ADDRESS: Final = "missing_address"
CONFIG_COMPLETE: Final = "complete"
CONFIG_STATES: Final = (
    STATUS_STOPPED,
    CONFIG_COMPLETE,
    MISSING_FIRST_CONTACT,
    MISSING_PHONE,
    MISSING_PASSWORD,
    MISSING_ADDRESS,
)

# Limits of the contract.
MAX_NAME: Final = 80
MAX_STREET: Final = 200
MAX_POSTCODE: Final = 20
MAX_CITY: Final = 100
MAX_INSTRUCTIONS: Final = 2000
MAX_KEY_HOLDER: Final = 200
MAX_ACCESS_NOTES: Final = 2000
MIN_PASSWORD: Final = 4
MAX_PASSWORD: Final = 64
E164: Final = re.compile(r"^\+[1-9][0-9]{7,14}$")

# scrypt: 2**14 rounds (the portal accepts 14 to 17), 16 bytes of salt, 32 of hash.
SCRYPT_LN: Final = 14
_SCRYPT_MAXMEM: Final = 64 * 1024 * 1024
_PHC: Final = re.compile(
    r"^\$scrypt\$ln=(1[4-7]),r=8,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$"
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, ln: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=2**ln, r=8, p=1, dklen=32, maxmem=_SCRYPT_MAXMEM
    )


def hash_password(password: str) -> str:
    """The PHC string of the contract (slow: run it in the executor)."""
    salt = os.urandom(16)
    return f"$scrypt$ln={SCRYPT_LN},r=8,p=1${_b64(salt)}${_b64(_scrypt(password, salt, SCRYPT_LN))}"


def verify_password(password: str, phc: Any) -> bool:
    """``password`` matches the PHC string (slow: run it in the executor)."""
    match = _PHC.match(phc) if isinstance(phc, str) else None
    if match is None:
        return False
    salt, expected = _unb64(match.group(2)), _unb64(match.group(3))
    return hmac.compare_digest(_scrypt(password, salt, int(match.group(1))), expected)


def normalize_phone(text: str, region: str | None) -> str | None:
    """The number in E.164 (``region``: the country of numbers without ``+``), or None."""
    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 if E164.match(e164) else None


def missing(config: dict[str, Any]) -> list[str]:
    """What an active subscription still lacks before alarms may reach the centre (M8)."""
    contacts = config.get("contacts") or []
    lacking: list[str] = []
    if not contacts or contacts[0].get("kind") != CONTACT_OWNER:
        lacking.append(MISSING_FIRST_CONTACT)
    else:
        if not contacts[0].get("phone"):
            lacking.append(MISSING_PHONE)
        if not contacts[0].get("password_hash"):
            lacking.append(MISSING_PASSWORD)
    if not valid_address(config.get("address")):
        lacking.append(MISSING_ADDRESS)
    return lacking


def valid_address(address: Any) -> bool:
    """A postal address the contract takes."""
    if not isinstance(address, dict):
        return False
    return (
        0 < len(str(address.get("street") or "")) <= MAX_STREET
        and 0 < len(str(address.get("postcode") or "")) <= MAX_POSTCODE
        and 0 < len(str(address.get("city") or "")) <= MAX_CITY
        and re.fullmatch(r"[A-Z]{2}", str(address.get("country") or "")) is not None
    )


def config_state(config: dict[str, Any]) -> str:
    """``stopped``, ``complete`` or the first thing missing."""
    if config.get("status") != STATUS_ACTIVE:
        return STATUS_STOPPED
    lacking = missing(config)
    return lacking[0] if lacking else CONFIG_COMPLETE


def subscription_payload(config: dict[str, Any]) -> dict[str, Any]:
    """The ``centre_subscription`` payload: the whole state (no duress hash, no user ids)."""
    active = config.get("status") == STATUS_ACTIVE
    on_site = config.get("on_site") or {}
    return {
        "status": STATUS_ACTIVE if active else STATUS_STOPPED,
        "complete": active and not missing(config),
        "contacts": [
            {
                "kind": contact["kind"],
                "first_name": contact["first_name"],
                "last_name": contact["last_name"],
                "phone": contact["phone"],
                "password_hash": contact["password_hash"],
            }
            for contact in (config.get("contacts") or [])
            if active and contact.get("phone") and contact.get("password_hash")
        ],
        "address": dict(config["address"])
        if active and valid_address(config.get("address"))
        else None,
        "instructions": str(config.get("instructions") or "") if active else "",
        "on_site": {
            "guard_may_enter": bool(on_site.get("guard_may_enter", False)),
            "key_holder": str(on_site.get("key_holder") or ""),
            "access_notes": str(on_site.get("access_notes") or ""),
        },
        "updated_at": config.get("updated_at"),
    }


def split_name(name: str | None) -> tuple[str, str]:
    """An HA user's name as first and last name (the last may be empty)."""
    parts = (name or "").strip().split(maxsplit=1)
    first = parts[0] if parts else "?"
    return first[:MAX_NAME], (parts[1] if len(parts) > 1 else "")[:MAX_NAME]
