"""The monitoring contacts' password hashes: made by Home Assistant, verified by the portal.

``$scrypt$ln=<14..17>,r=8,p=1$<salt>$<hash>``: a 16-byte salt and a 32-byte ``hashlib.scrypt``
output, both standard base64 without padding. Any other shape is refused, so a frame cannot
make the portal spend unbounded memory or time on one check. The plain password never
reaches the portal; the one an operator types is compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
import hashlib
import hmac
import re
from typing import Final

MAX_LENGTH: Final = 200
# What the contract names as the memory bound. scrypt needs 128 * r * N bytes: 64 MiB at
# ln=16 and 128 MiB at ln=17, which OpenSSL refuses under that bound, so the bound is raised
# to what the hash's own cost needs (and a little more), never less than 64 MiB.
MAXMEM: Final = 64 * 1024 * 1024
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
_SHAPE: Final = re.compile(
    r"\$scrypt\$ln=(1[4-7]),r=8,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})", re.ASCII
)


@dataclass(frozen=True, slots=True)
class ScryptHash:
    """A parsed hash: the cost and the two byte strings."""

    log_n: int
    salt: bytes
    digest: bytes


def _bytes(text: str, size: int) -> bytes | None:
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    # Only the canonical text of those bytes: one hash, one spelling.
    if len(raw) != size or base64.b64encode(raw).decode().rstrip("=") != text:
        return None
    return raw


def parse(text: object) -> ScryptHash | None:
    """The hash ``text`` holds, or None when it is not exactly the agreed shape."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        return None
    match = _SHAPE.fullmatch(text)
    if match is None:
        return None
    salt = _bytes(match.group(2), SALT_BYTES)
    digest = _bytes(match.group(3), HASH_BYTES)
    if salt is None or digest is None:
        return None
    return ScryptHash(int(match.group(1)), salt, digest)


def _maxmem(log_n: int) -> int:
    need: int = 129 * 8 * 2**log_n
    return max(MAXMEM, need)


def make(password: str, salt: bytes, log_n: int = 14) -> str:
    """A hash of ``password`` in the agreed shape (Home Assistant's way; tests and the demo)."""
    digest = hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=2**log_n,
        r=8,
        p=1,
        maxmem=_maxmem(log_n),
        dklen=HASH_BYTES,
    )

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=")

    return f"$scrypt$ln={log_n},r=8,p=1${b64(salt)}${b64(digest)}"


def verify(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (False for a hash of another shape)."""
    parsed = parse(stored)
    if parsed is None:
        return False
    digest = hashlib.scrypt(
        password.encode(),
        salt=parsed.salt,
        n=2**parsed.log_n,
        r=8,
        p=1,
        maxmem=_maxmem(parsed.log_n),
        dklen=HASH_BYTES,
    )
    return hmac.compare_digest(digest, parsed.digest)
