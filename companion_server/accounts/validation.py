"""Checks of what people type into the account forms (addresses, names, passwords)."""

from __future__ import annotations

import re

from companion_server.i18n import LANGUAGES
from companion_server.security.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

EMAIL_RE = re.compile(
    r"^[^@\s<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}$"
)


def normalize_email(raw: str) -> str | None:
    """The canonical (trimmed, lower-case) form of an address, or None when invalid."""
    email = raw.strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        return None
    return email


def require_email(raw: str, errors: dict[str, str], field: str = "email") -> str:
    """The normalized address, or "" with an error for ``field``."""
    email = normalize_email(raw)
    if email is None:
        errors[field] = "Enter a valid e-mail address."
        return ""
    return email


def require_text(raw: str, field: str, message: str, errors: dict[str, str]) -> str:
    """The text with its blanks collapsed; an error for ``field`` if empty or too long."""
    value = " ".join(raw.split())
    if not value:
        errors[field] = message
    elif len(value) > 200:
        errors[field] = "This text is too long (200 characters at most)."
    return value


def check_password(password: str, confirm: str, email: str, errors: dict[str, str]) -> None:
    """Password policy: 10 to 256 characters, not containing the address, typed twice."""
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = "The password must have at least 10 characters."  # noqa: S105
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors["password"] = "The password is too long (256 characters at most)."  # noqa: S105
    elif email and email.split("@")[0] in password.lower() and len(email.split("@")[0]) >= 3:
        errors["password"] = "The password must not contain your e-mail address."  # noqa: S105
    elif password != confirm:
        errors["password_confirm"] = "The two passwords are not the same."  # noqa: S105


def require_language(raw: str, errors: dict[str, str]) -> str:
    """The language, with an error unless the portal offers it."""
    if raw not in LANGUAGES:
        errors["language"] = "Choose one of the offered languages."
    return raw
