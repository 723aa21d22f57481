"""A parameter value typed by the installer, checked as Home Assistant will check it.

Home Assistant decides (``custom_components/somfy_pro/actions.py``); the portal refuses at
once what it would refuse, so that the installer corrects the field instead of reading a
refusal later. The contract test holds both to one corpus.
"""

from __future__ import annotations

from typing import Any

from companion_server.errors import ValidationFailed
from companion_server.parsing import MAX_ID, parse_int


def parameter_value(spec: dict[str, Any], typed: str) -> int | str:
    """The value to send for an editable parameter described by ``spec`` (``editable``)."""
    text = typed.strip()
    if spec.get("type") == "int":
        # ASCII digits only: ``int()`` also reads other scripts, "+5" and "5_0".
        number = parse_int(text, -MAX_ID, MAX_ID)
        if number is None:
            raise ValidationFailed({"value": "Enter a whole number."})
        low, high = spec.get("min"), spec.get("max")
        if (isinstance(low, int) and number < low) or (isinstance(high, int) and number > high):
            raise ValidationFailed({"value": "The value is out of range."})
        return number
    limit = spec.get("max_length")
    # Home Assistant refuses control characters anywhere in the value, even around it.
    if any(ord(char) < 32 for char in typed):
        raise ValidationFailed({"value": "The value contains control characters."})
    if not text or (isinstance(limit, int) and len(text) > limit):
        raise ValidationFailed({"value": "The value is empty or too long."})
    return text
