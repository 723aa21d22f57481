"""The centre's AES key at rest: sealed with a key derived from the portal's secret.

Unlike passwords and tokens, which the portal only compares and so keeps as hashes, the
DC-09 key must be read back to encrypt each message. It is stored encrypted (AES-256-GCM,
the key derived from ``settings.secret_key`` with HKDF), bound to its company so that a row
copied to another company does not open, and never leaves the server: pages only say
whether a key is set.
"""

from __future__ import annotations

import base64
import secrets
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION: Final = "v1:"
_NONCE: Final = 12


class KeyUnreadable(ValueError):
    """A sealed key that does not open (the portal's secret changed, or the row was moved)."""


def _aead(secret_key: str) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"companion sia centre key v1"
    ).derive(secret_key.encode())
    return AESGCM(derived)


def seal(secret_key: str, company_id: int, key: bytes) -> str:
    """``key`` encrypted for storage in ``company_id``'s row."""
    nonce = secrets.token_bytes(_NONCE)
    sealed = _aead(secret_key).encrypt(nonce, key, str(company_id).encode())
    return _VERSION + base64.b64encode(nonce + sealed).decode("ascii")


def unseal(secret_key: str, company_id: int, sealed: str) -> bytes:
    """The key of a stored row; :class:`KeyUnreadable` when it does not open."""
    if not sealed.startswith(_VERSION):
        raise KeyUnreadable("unknown format")
    try:
        raw = base64.b64decode(sealed.removeprefix(_VERSION), validate=True)
        return _aead(secret_key).decrypt(raw[:_NONCE], raw[_NONCE:], str(company_id).encode())
    except (ValueError, InvalidTag) as err:
        raise KeyUnreadable("the key does not open") from err
