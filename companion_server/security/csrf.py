"""CSRF tokens: an HMAC of the session token (or of a random pre-session cookie).

Every state-changing request (POST) must carry the token of the current visitor in the
``csrf_token`` form field or the ``X-CSRF-Token`` header; forms render it hidden.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def make_token(secret_key: str, seed: str) -> str:
    """The CSRF token bound to a session (or pre-session) seed."""
    digest = hmac.new(secret_key.encode(), b"csrf\0" + seed.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def check_token(secret_key: str, seed: str, candidate: str | None) -> bool:
    """Whether ``candidate`` is the token of ``seed`` (constant-time)."""
    if not candidate or not seed:
        return False
    return hmac.compare_digest(make_token(secret_key, seed), candidate)


def sign(secret_key: str, value: str) -> str:
    """``value.signature`` for small values kept in cookies (flash messages)."""
    digest = hmac.new(secret_key.encode(), b"sign\0" + value.encode(), hashlib.sha256).digest()
    encoded = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
    return encoded + "." + base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def unsign(secret_key: str, signed: str | None) -> str | None:
    """The value of :func:`sign` output, or None when tampered with."""
    if not signed or "." not in signed:
        return None
    encoded, _, _ = signed.partition(".")
    try:
        value = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return value if hmac.compare_digest(sign(secret_key, value), signed) else None
