"""A parameter value typed by the installer, checked as Home Assistant will check it.

Home Assistant decides (``custom_components/somfy_pro/actions.py``); the portal refuses at
once what it would refuse, so that the installer corrects the field instead of reading a
refusal later. The contract test holds both to one corpus.
"""

from __future__ import annotations

import re
from typing import Any, Final

from companion_server.errors import ValidationFailed

# A whole number as typed, in ASCII digits (``int()`` also takes other scripts, "+5", "5_0").
_WHOLE: Final = re.compile(r"-?[0-9]{1,9}")


def parameter_value(spec: dict[str, Any], typed: str) -> int | str:
    """The value to send for an editable parameter described by ``spec`` (``editable``)."""
    text = typed.strip()
    if spec.get("type") == "int":
        if not _WHOLE.fullmatch(text):
            raise ValidationFailed({"value": "Enter a whole number."})
        number = int(text)
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
