"""A real box's data as a scenario: a ``GET setup`` answer or a diagnostics download.

Either file is served verbatim: every gateway, device, field and state as the file has it,
with only masked identifiers replaced (see :mod:`.unmask`). A diagnostics download is first
turned back into the ``setup`` shape the box sends; what it does not carry is filled as a
real box fills it (see :func:`setup_from_diagnostics`).
"""

from __future__ import annotations

from typing import Any
import uuid

from .unmask import unmask_setup
from .values import now_ms, type_of_value


def is_dump(raw: dict[str, Any]) -> bool:
    """Whether a scenario file is a real box's data rather than a profile-based scenario."""
    return "gateway" not in raw and ("devices" in raw or isinstance(raw.get("data"), dict))


def setup_from_dump(raw: dict[str, Any]) -> dict[str, Any]:
    """The ``GET setup`` answer a dump describes, masks replaced; ValueError if it is not one."""
    data = raw["data"] if isinstance(raw.get("data"), dict) else raw
    if not isinstance(data.get("devices"), list):
        raise ValueError("a setup dump needs a list of devices")
    setup = setup_from_diagnostics(data) if _is_diagnostics(data) else dict(data)
    setup = unmask_setup(setup)
    gateways = setup.get("gateways")
    if not isinstance(gateways, list) or not gateways or not isinstance(gateways[0], dict):
        raise ValueError("a setup dump needs at least one gateway")
    if not isinstance(gateways[0].get("gatewayId"), str):
        raise ValueError("the first gateway of a setup dump needs a gatewayId")
    urls: set[str] = set()
    for device in setup["devices"]:
        if not isinstance(device, dict) or not isinstance(device.get("deviceURL"), str):
            raise ValueError("every device of a setup dump needs a deviceURL")
        if device["deviceURL"] in urls:
            raise ValueError(f"device listed twice: {device['deviceURL']}")
        urls.add(device["deviceURL"])
    return setup


def _is_diagnostics(data: dict[str, Any]) -> bool:
    return "box" in data or any(
        isinstance(d, dict) and "url" in d and "deviceURL" not in d for d in data["devices"]
    )


def setup_from_diagnostics(data: dict[str, Any]) -> dict[str, Any]:
    """The ``setup`` answer behind a diagnostics download of this integration.

    Kept as the download has it: the raw ``gateways`` (the ``box`` summary when absent),
    each device's URL, label, names, availability, states, attributes, ``definition`` and
    ``type``. Filled as a real box fills them: ``enabled`` (true), creation times (now), the
    numeric state types
    (from the value: 0 for a state without value), places (one per label under the root
    place), a definition listing the reported and declared states when the download has
    none, and ``type`` from the definition (actuator when it says nothing).
    """
    box = data.get("box") or {}
    gateways = data.get("gateways")
    if not isinstance(gateways, list):
        gateways = [_gateway_from_box(box)]
    pin = (
        str(gateways[0].get("gatewayId", "")) if gateways and isinstance(gateways[0], dict) else ""
    )
    places: dict[str, str] = {}
    devices = [_device_from_diagnostics(d, pin, places) for d in data["devices"]]
    root = str(uuid.uuid5(uuid.NAMESPACE_URL, f"place:{pin}"))
    created = {"creationTime": now_ms(), "lastUpdateTime": now_ms()}
    return {
        **created,
        "gateways": gateways,
        "devices": devices,
        "zones": [],
        "rootPlace": {
            **created,
            "label": "Home",
            "type": 200,
            "oid": root,
            "subPlaces": [
                {**created, "label": label, "type": 108, "oid": oid, "subPlaces": []}
                for label, oid in places.items()
            ],
        },
        "features": [],
    }


def _gateway_from_box(box: dict[str, Any]) -> dict[str, Any]:
    gateway: dict[str, Any] = {
        "gatewayId": str(box.get("id") or "**REDACTED**"),
        "connectivity": {"status": "OK", "protocolVersion": box.get("firmware")},
    }
    for key, field in (
        ("alive", "alive"),
        ("mode", "mode"),
        ("upToDate", "up_to_date"),
        ("updateStatus", "update_status"),
    ):
        if box.get(field) is not None:
            gateway[key] = box[field]
    return gateway


def _states(values: Any) -> list[dict[str, Any]]:
    if not isinstance(values, dict):
        return []
    states: list[dict[str, Any]] = []
    for name, value in values.items():
        if value is None:
            states.append({"name": name, "type": 0})
        else:
            states.append({"name": name, "type": type_of_value(value), "value": value})
    return states


def _device_from_diagnostics(
    item: dict[str, Any], pin: str, places: dict[str, str]
) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("url"), str):
        raise ValueError("every device of a diagnostics download needs a url")
    device: dict[str, Any] = {"deviceURL": item["url"]}
    # A key the download has as null is a field the box did not send.
    for key, field in (
        ("label", "label"),
        ("controllableName", "controllable_name"),
        ("uiClass", "ui_class"),
        ("widget", "widget"),
    ):
        if item.get(field) is not None:
            device[key] = item[field]
    device["available"] = bool(item.get("available", True))
    device["enabled"] = bool(item.get("enabled", True))
    if isinstance(item.get("place"), str):
        place = item["place"]
        device["placeOID"] = places.setdefault(
            place, str(uuid.uuid5(uuid.NAMESPACE_URL, f"place:{pin}:{place}"))
        )
    states = _states(item.get("states"))
    device["states"] = states
    device["attributes"] = _states(item.get("attributes"))
    definition = item.get("definition")
    if "definition" not in item:
        declared = item.get("declared_states") or []
        names = list(dict.fromkeys([*(s["name"] for s in states), *map(str, declared)]))
        definition = {
            "commands": [],
            "states": [{"type": "DataState", "qualifiedName": name} for name in names],
            "dataProperties": [],
            "widgetName": item.get("widget"),
            "uiClass": item.get("ui_class"),
            "qualifiedName": item.get("controllable_name"),
            "type": "ACTUATOR",
        }
    if definition is not None:
        device["definition"] = definition
    if "type" in item:
        if item["type"] is not None:
            device["type"] = item["type"]
    else:
        kind = definition.get("type") if isinstance(definition, dict) else None
        device["type"] = 2 if kind == "SENSOR" else 1
    return device
