"""Strict parsing of what visitors type or send: whole numbers, ids, box PINs, return paths.

Python is generous with digits: ``"²".isdigit()`` is true yet ``int("²")`` raises, and
``int()`` reads Arabic-Indic digits, spaces, ``+`` and ``_`` (``int(" 1_2 ")`` is 12). The
portal accepts only what it would write itself, ASCII ``0``-``9``, so every value has one
spelling: a PIN typed in other digits is refused rather than stored as a different string.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Enough for any id or setting; longer input is refused before int() does any work.
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_PIN_DIGITS = re.compile(r"[0-9]{12}")
_PIN = re.compile(r"[0-9]{4}-[0-9]{4}-[0-9]{4}")
# Control characters (CR/LF among them) never belong in a URL the portal redirects to.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ID = 2**31 - 1


def parse_int(raw: object, low: int, high: int) -> int | None:
    """The integer written in ASCII digits (optional leading ``-``) within ``low..high``."""
    if not isinstance(raw, str) or not _INTEGER.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def parse_id(raw: object) -> int | None:
    """A database id (a positive 32-bit integer), or None."""
    return parse_int(raw, 1, MAX_ID)


def normalize_pin(raw: str) -> str | None:
    """``1234-5678-9012`` (spaces ignored; 12 digits without dashes accepted), or None."""
    text = re.sub(r"\s", "", raw)
    if _PIN_DIGITS.fullmatch(text):
        text = f"{text[:4]}-{text[4:8]}-{text[8:]}"
    return text if _PIN.fullmatch(text) else None


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a control character (CR and LF among them)."""
    return _CONTROL.search(text) is not None


def is_safe_path(target: str) -> bool:
    """Whether ``target`` is a path of this site, fit for a ``Location`` header."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if has_control_characters(target):
        return False
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc)
