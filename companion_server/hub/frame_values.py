"""The value checks of frame schemas: strict types, bounded texts, UUIDs, times, JSON.

Values are checked strictly: ``true`` is not a number, ``1`` is not a boolean.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final
import uuid

import voluptuous as vol


def strict(kind: type) -> Any:
    """A check that the value is exactly of ``kind`` (no subclass: ``True`` is no int)."""

    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise vol.Invalid(f"expected {kind.__name__}")
        return value

    return check


Str = strict(str)
Bool = strict(bool)
Int = strict(int)


def bounded_text(max_length: int) -> Any:
    """A string of at most ``max_length`` characters."""
    return vol.All(Str, vol.Length(max=max_length))


def finite_number(value: Any) -> Any:
    """An int or a finite float (no boolean, no NaN)."""
    if type(value) not in (int, float) or value != value or value in (float("inf"), -float("inf")):
        raise vol.Invalid("expected a number")
    return value


def uuid_string(value: Any) -> str:
    """A UUID in its usual 36-character form (returned as sent: acks echo it)."""
    if type(value) is not str or len(value) != 36:
        raise vol.Invalid("expected a UUID")
    try:
        parsed = uuid.UUID(value)
    except ValueError as err:
        raise vol.Invalid("expected a UUID") from err
    if str(parsed) != value.lower():
        raise vol.Invalid("expected a UUID")
    return value


def iso_time(value: Any) -> datetime:
    """An ISO 8601 time, as aware UTC (a time without zone is UTC)."""
    if type(value) is not str or len(value) > 40:
        raise vol.Invalid("expected an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise vol.Invalid("expected an ISO 8601 time") from err
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError) as err:
        raise vol.Invalid("time out of range") from err


def json_value(depth: int = 0) -> Any:
    """A JSON value nested at most 4 deep, with keys of at most 100 characters."""

    def check(value: Any) -> Any:
        if value is None or type(value) in (str, bool, int):
            return value
        if type(value) is float:
            return finite_number(value)
        if depth >= 4:
            raise vol.Invalid("nested too deep")
        if type(value) is list:
            return [json_value(depth + 1)(item) for item in value]
        if type(value) is dict:
            return {bounded_text(100)(k): json_value(depth + 1)(v) for k, v in value.items()}
        raise vol.Invalid("unexpected value")

    return check


# Added by the checks to what they return (never taken from the sender): the names of the
# fields of a device left out, and the number of devices of a snapshot left out.
INVALID_FIELDS: Final = "invalid_fields"
DROPPED_DEVICES: Final = "dropped_devices"


def device_values(fields: dict[str, Any], url: Any = None) -> Any:
    """A device's values, each checked alone: a value that breaks its rule is left out.

    One product's odd value (a radio level out of range, a text too long) must not cost
    the frame that carries it, nor every later update of that product: the field is left
    out and named in ``INVALID_FIELDS``, the rest is kept. Unknown fields are dropped. With
    ``url``, the device's ``url`` is required and checked by it (raises ``vol.Invalid``).
    """
    checks = {key: vol.Schema(check) for key, check in fields.items()}

    def check(value: Any) -> dict[str, Any]:
        if type(value) is not dict:
            raise vol.Invalid("expected an object")
        values: dict[str, Any] = {}
        if url is not None:
            if "url" not in value:
                raise vol.Invalid("required key not provided", path=["url"])
            values["url"] = url(value["url"])
        invalid = []
        for key, field_check in checks.items():
            if key not in value:
                continue
            try:
                values[key] = field_check(value[key])
            except vol.Invalid:
                invalid.append(key)
        if invalid:
            values[INVALID_FIELDS] = invalid
        return values

    return check
