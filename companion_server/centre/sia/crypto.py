"""DC-09 encryption: AES-128/192/256 in CBC mode with an all-zero IV, hex on the wire.

What is encrypted is everything after the ``[`` that opens the data: a pad of
pseudo-random characters (never ``|``, ``[`` or ``]``), ``|``, the data, ``]``, any extended
data and the timestamp. The pad makes the length a multiple of the 16-byte block; DC-09
uses no other padding, so decryption has nothing to strip but the pad itself.
"""

from __future__ import annotations

from collections.abc import Callable
import secrets
import string
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK: Final = 16
KEY_LENGTHS: Final = (16, 24, 32)
ZERO_IV: Final = bytes(BLOCK)
# Printable and free of the three characters DC-09 forbids in the pad.
_PAD_ALPHABET: Final = string.ascii_letters + string.digits

PadSource = Callable[[int], str]


def random_pad(length: int) -> str:
    """``length`` pseudo-random pad characters."""
    return "".join(secrets.choice(_PAD_ALPHABET) for _ in range(length))


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    if len(key) not in KEY_LENGTHS:
        raise ValueError("an AES key has 16, 24 or 32 bytes")
    return Cipher(algorithms.AES(key), modes.CBC(ZERO_IV))


def encrypt(plain: str, key: bytes, pad: PadSource = random_pad) -> str:
    """``pad|plain`` encrypted, as upper-case hex."""
    raw = plain.encode("ascii")
    padded = pad(-(len(raw) + 1) % BLOCK).encode("ascii") + b"|" + raw
    encryptor = _cipher(key).encryptor()
    return (encryptor.update(padded) + encryptor.finalize()).hex().upper()


def decrypt(hex_text: str, key: bytes) -> str | None:
    """The text of an encrypted part (pad included), or None when it cannot be one."""
    try:
        data = bytes.fromhex(hex_text)
    except ValueError:
        return None
    if not data or len(data) % BLOCK:
        return None
    decryptor = _cipher(key).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    try:
        return plain.decode("ascii")
    except UnicodeDecodeError:
        return None
