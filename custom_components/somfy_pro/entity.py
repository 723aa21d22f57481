"""The one base entity of the integration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import SomfyProCoordinator

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from homeassistant.helpers.entity import EntityDescription

    from .box_api import Device
    from .models import SomfyProConfigEntry


class DeviceEntityDescription(Protocol):
    """What ``async_track_device_entities`` needs of a product entity's description."""

    @property
    def key(self) -> str:
        """Unique among the descriptions of a platform."""

    @property
    def exists_fn(self) -> Callable[[Device], bool]:
        """Whether the product gets this entity (it reports or declares the state read)."""


def async_track_device_entities[DescriptionT: DeviceEntityDescription](
    entry: SomfyProConfigEntry,
    descriptions: Sequence[DescriptionT],
    add_new: Callable[[list[tuple[str, DescriptionT]]], None],
    applies: Callable[[str, DescriptionT], bool] | None = None,
) -> None:
    """Call ``add_new`` with the (product URL, description) pairs that apply and are new.

    ``applies``: a further condition on a pair (checked again whenever the product changes).

    Checked now, then for every product whose data changed: one just paired, or one that
    reports a state for the first time (in an event or at the periodic re-read), so that its
    entity appears without reloading the entry. Each pair is added once while the product stays
    paired; an entity whose state disappears again stays (its value is then unknown).
    """
    coordinator = entry.runtime_data.coordinator
    added: dict[str, set[str]] = {}
    checked: dict[str, int] = {}

    @callback
    def add_new_entities() -> None:
        devices = coordinator.data.devices
        for url in [url for url in added if url not in devices]:
            del added[url]  # unpaired: paired again, it gets its entities again
            checked.pop(url, None)
        new: list[tuple[str, DescriptionT]] = []
        for url, device in devices.items():
            revision = coordinator.device_revisions.get(url, -1)
            if checked.get(url) == revision:
                continue  # nothing of this product changed since it was last checked
            checked[url] = revision
            keys = added.setdefault(url, set())
            for description in descriptions:
                if (
                    description.key not in keys
                    and description.exists_fn(device)
                    and (applies is None or applies(url, description))
                ):
                    keys.add(description.key)
                    new.append((url, description))
        if new:
            add_new(new)

    add_new_entities()
    entry.async_on_unload(coordinator.async_add_listener(add_new_entities))


class SomfyProEntity(CoordinatorEntity[SomfyProCoordinator]):
    """An entity of the box (``device_url`` None) or of one of its products."""

    _attr_has_entity_name = True
    # Entities that stay available while their product is offline (they report it).
    _available_when_device_offline = False

    def __init__(
        self,
        coordinator: SomfyProCoordinator,
        description: EntityDescription,
        device_url: str | None = None,
    ) -> None:
        """Attach the entity to the hub device or to the product's device."""
        super().__init__(coordinator)
        self.entity_description = description
        self.device_url = device_url
        gateway_id = coordinator.data.gateway.id
        if device_url is None:
            self._attr_unique_id = f"{gateway_id}_{description.key}"
            identifier = gateway_id
        else:
            self._attr_unique_id = f"{device_url}_{description.key}"
            identifier = coordinator.data.devices[device_url].base_url
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, identifier)})
        self._written: tuple[int, bool, bool] | None = None

    @property
    def device(self) -> Device | None:
        """The product, while it is paired (None for box entities)."""
        if self.device_url is None:
            return None
        return self.coordinator.data.devices.get(self.device_url)

    @property
    def available(self) -> bool:
        """Unavailable while the box is unreachable, or the product offline or gone."""
        if not super().available:
            return False
        if self.device_url is None:
            return True
        device = self.device
        if device is None:
            return False
        return device.available or self._available_when_device_offline

    def _revision(self) -> int:
        if self.device_url is None:
            return self.coordinator.box_revision
        return self.coordinator.device_revisions.get(self.device_url, -1)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when this entity's box or product changed."""
        written = (self._revision(), self.available, self.coordinator.last_update_success)
        if written == self._written:
            return
        self._written = written
        super()._handle_coordinator_update()
