"""Which devices of a box are products, and which devices make one physical product.

A box lists, next to the products paired with it, devices for its own parts: the box itself
(``internal://PIN/pod/0``), its Wi-Fi (``internal://PIN/wifi/0``), its radio stacks
(``io:StackComponent``, zigbee transceivers and networks), its bridges to other ecosystems
(``ogp`` bridges, HomeKit, Hue). Home Assistant's overkiz integration ignores the same
``uiClass`` values (``ProtocolGateway``, ``Pod``); ``Wifi`` and ``NetworkComponent`` are parts
of the box as well, and the widgets below name the same parts on firmware that reports another
class. None of them is a product: no registry device, no entity, not counted.

One physical product may be listed as several sub-devices, ``URL#1``, ``URL#2`` (a valve and
its temperature sensor). They make one product, named after its main sub-device: the one
without ``#``, else the lowest ``#n``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Mapping

    from .box_api import Device

# Keys of the radio entities a product has once (the level and the quality of its one radio).
RADIO_ENTITY_KEYS = ("radio_level", "radio_quality")
BOX_PART_UI_CLASSES = frozenset(
    {"Pod", "ProtocolGateway", "NetworkComponent", "ThirdPartyGateway", "Wifi"}
)
BOX_PART_WIDGETS = frozenset(
    {
        "Pod",
        "IOStack",
        "ZigbeeStack",
        "ZigbeeNetwork",
        "HomekitStack",
        "HueBridge",
        "DynamicBridge",
        "DynamicGateway",
        "DynamicThirdPartyGateway",
        "Wifi",
    }
)


def is_pod(device: Device) -> bool:
    """The box itself (its label is the box's name)."""
    return device.ui_class == "Pod" or (device.protocol == "internal" and "/pod/" in device.url)


def is_box_part(device: Device) -> bool:
    """A part of the box (itself, a radio stack, a bridge, its Wi-Fi), not a product."""
    return (
        is_pod(device)
        or device.ui_class in BOX_PART_UI_CLASSES
        or device.widget in BOX_PART_WIDGETS
        or device.controllable_name.endswith(":StackComponent")
    )


def subsystem(url: str) -> int:
    """The ``#n`` of a sub-device's URL; 0 for a URL without one."""
    _, _, number = url.partition("#")
    return int(number) if number.isdigit() else 0


def products(devices: Mapping[str, Device]) -> dict[str, list[Device]]:
    """Base URL -> the product's sub-devices, main one first, in a stable order."""
    grouped: dict[str, list[Device]] = {}
    for url in sorted(devices, key=lambda url: (url.partition("#")[0], subsystem(url))):
        device = devices[url]
        grouped.setdefault(device.base_url, []).append(device)
    return grouped


def first_value(parts: Iterable[Device], attribute: str) -> str | None:
    """An attribute of the product: from the first sub-device that reports it."""
    for device in parts:
        value = device.attributes.get(attribute)
        if value is not None:
            return str(value)
    return None


def radio_urls(
    devices: Mapping[str, Device], states: Iterable[str], previous: frozenset[str] = frozenset()
) -> frozenset[str]:
    """The sub-device of each product whose radio entities stand for the product.

    Sub-devices share one radio: its level is shown once, from the first sub-device (main one
    first) that reports one of ``states``; a sub-device chosen before stays chosen while it
    reports one, so that the entity does not move.
    """
    wanted = tuple(states)
    chosen: set[str] = set()
    for parts in products(devices).values():
        reporting = [d.url for d in parts if any(state in d.states for state in wanted)]
        kept = [url for url in reporting if url in previous]
        if kept or reporting:
            chosen.add((kept or reporting)[0])
    return frozenset(chosen)
