"""Sensors of the homeowner's support plan and services, on the box's device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)

from . import subscription_values as sv
from .portal_entity import SomfyProPortalEntity

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from .models import SomfyProConfigEntry
    from .subscriptions import Subscriptions


def _plan_attributes(subs: Subscriptions) -> dict[str, Any]:
    plan = subs.plan
    if plan is None:
        return {}  # nothing told yet: no terms to show
    return {
        "discount": plan["discount_basis_points"] / 100,
        "priority": plan["priority"],
        "ends_on": plan["ends_on"],
        "period_end": plan["period_end"],
        "monthly_price": sv.euros(plan["monthly_price_cents"]),
    }


def _service_list(subs: Subscriptions) -> dict[str, Any]:
    if subs.plan is None:
        return {}
    return {
        "services": [
            {
                "service": service["code"],
                "name": subs.service_name(service["code"]),
                "state": service["state"],
                "ends_on": service["ends_on"],
                "period_end": service["period_end"],
                "quantity": service["quantity"],
                "monthly_price": sv.euros(service["monthly_price_cents"]),
            }
            for service in subs.services
        ],
        "monthly_price": sv.euros(sum(s["monthly_price_cents"] for s in subs.services)),
    }


@dataclass(frozen=True, kw_only=True)
class SubscriptionSensorDescription(SensorEntityDescription):
    """A sensor of the plan and services: its value, and what else it says."""

    value_fn: Callable[[Subscriptions], str | int | None]
    attributes_fn: Callable[[Subscriptions], dict[str, Any]]


SENSORS: tuple[SubscriptionSensorDescription, ...] = (
    SubscriptionSensorDescription(
        key="support_plan",
        translation_key="support_plan",
        device_class=SensorDeviceClass.ENUM,
        options=list(sv.PLANS),
        value_fn=lambda subs: sv.plan_state(subs.plan),
        attributes_fn=_plan_attributes,
    ),
    SubscriptionSensorDescription(
        key="active_services",
        translation_key="active_services",
        state_class=SensorStateClass.MEASUREMENT,
        # Unknown until the portal first told them: a box never linked has no services.
        value_fn=lambda subs: None if subs.plan is None else len(subs.services),
        attributes_fn=_service_list,
    ),
)


class SomfyProSubscriptionSensor(SomfyProPortalEntity, SensorEntity):
    """A sensor of the support plan and services."""

    entity_description: SubscriptionSensorDescription

    def __init__(
        self, entry: SomfyProConfigEntry, description: SubscriptionSensorDescription
    ) -> None:
        """Attach to the box's device."""
        super().__init__(entry, description)
        self.subscriptions = entry.runtime_data.subscriptions

    async def async_added_to_hass(self) -> None:
        """Follow the link, and each state the portal sends."""
        await super().async_added_to_hass()
        self.async_on_remove(self.subscriptions.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> str | int | None:
        """The value its description reads."""
        return self.entity_description.value_fn(self.subscriptions)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """What else it says."""
        return self.entity_description.attributes_fn(self.subscriptions)


def subscription_sensors(entry: SomfyProConfigEntry) -> list[SensorEntity]:
    """The sensors of the plan and services."""
    return [SomfyProSubscriptionSensor(entry, description) for description in SENSORS]
