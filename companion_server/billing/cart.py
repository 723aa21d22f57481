"""The cart of the subscribe steps, carried in the address (``cart=monitoring,recording_7d*2``).

No server state: every step reads it back and checks it again, so a tampered address can
only ask for what the catalogue offers, once per item, with 1 to 8 cameras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from companion_server.billing.catalogue import MAX_CAMERAS, OFFER_BY_CODE

MAX_ITEMS: Final = len(OFFER_BY_CODE)


@dataclass(frozen=True, slots=True)
class CartItem:
    """One item: a catalogue code and how many cameras (1 for anything else)."""

    code: str
    quantity: int = 1


def parse(raw: str | None) -> tuple[CartItem, ...] | None:
    """The cart, or None when it is malformed (unknown code, repeated item, bad count)."""
    if not raw:
        return ()
    items: list[CartItem] = []
    for part in raw.split(",")[: MAX_ITEMS + 1]:
        code, star, count = part.partition("*")
        offer = OFFER_BY_CODE.get(code)
        if offer is None or not offer.subscribable or any(i.code == code for i in items):
            return None
        quantity = 1
        if star:
            number = count.isascii() and count.isdigit()
            if not (number and 1 <= int(count) <= MAX_CAMERAS and offer.per_camera):
                return None
            quantity = int(count)
        items.append(CartItem(code, quantity))
    return tuple(items) if len(items) <= MAX_ITEMS else None


def dump(items: tuple[CartItem, ...]) -> str:
    """The cart as the address carries it."""
    return ",".join(f"{i.code}*{i.quantity}" if i.quantity > 1 else i.code for i in items)


def with_item(items: tuple[CartItem, ...], item: CartItem) -> tuple[CartItem, ...]:
    """The cart with one item added or replaced."""
    return (*(i for i in items if i.code != item.code), item)
