"""The simulated box: built from a scenario, it describes its gateway and setup.

Its behaviour comes in layers, each in its own module: event listeners
(:mod:`.events`), paired products and their states (:mod:`.paired`), executions
(:mod:`.executions`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
import uuid

from .executions import Executions
from .values import now_ms

if TYPE_CHECKING:
    from collections.abc import Callable

    from .scenario import Profile, Scenario

PROTOCOL_VERSION = "2025.3.2-5"
LISTENER_TIMEOUT = 600.0


class Box(Executions):
    """State and behaviour of one box; the HTTP layers only translate to and from it."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        move_seconds: float = 1.0,
        listener_timeout: float = LISTENER_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        profiles: dict[str, Profile] | None = None,
    ) -> None:
        """Build the box from a scenario; ``profiles`` describe products paired later."""
        self.pin = scenario.pin
        self.firmware = scenario.firmware
        self.label = scenario.label
        self.cloud_fields = dict(scenario.cloud_fields) if scenario.cloud_fields else None
        self.move_seconds = move_seconds
        self.listener_timeout = listener_timeout
        self.clock = clock
        self.profiles = profiles or {}
        self.on_reboot = None
        self.pairing_until = None
        self.setup_oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"setup:{self.pin}"))
        self.root_place_oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"place:{self.pin}"))
        self.places = {}
        self.creation_time = now_ms()
        self.devices = {}
        self.listeners = {}
        self.executions = {}
        # A replayed box: its setup, first gateway and other gateways as the dump has them.
        self.setup_raw = scenario.setup
        self.gateway_raw: dict[str, Any] | None = None
        self.other_gateways: list[Any] = []
        if scenario.setup is not None:
            self._replay(scenario.setup)
        for spec in scenario.devices:
            self._add_device(spec)

    def _replay(self, setup: dict[str, Any]) -> None:
        self.gateway_raw, *self.other_gateways = setup["gateways"]
        if isinstance(setup.get("oid"), str):
            self.setup_oid = setup["oid"]
        root = setup.get("rootPlace")
        if isinstance(root, dict) and isinstance(root.get("oid"), str):
            self.root_place_oid = root["oid"]
        for raw in setup["devices"]:
            self._add_replayed(raw)

    def gateway_json(self) -> dict[str, Any]:
        """Serialise the box's own gateway as ``setup/gateways`` does on the local API."""
        if self.gateway_raw is None:
            gateway: dict[str, Any] = {
                "gatewayId": self.pin,
                "connectivity": {"status": "OK", "protocolVersion": self.firmware},
            }
        else:
            gateway = dict(self.gateway_raw)
            connectivity = gateway.get("connectivity")
            if self.firmware and isinstance(connectivity, dict):
                gateway["connectivity"] = {**connectivity, "protocolVersion": self.firmware}
        if self.cloud_fields is not None:
            gateway.update(self.cloud_fields)
        return gateway

    def gateways_json(self) -> list[Any]:
        """Serialise as ``setup/gateways`` does: this box, then any other (a replayed box's)."""
        return [self.gateway_json(), *self.other_gateways]

    def setup_json(self) -> dict[str, Any]:
        """Serialise as ``setup`` does."""
        if self.setup_raw is not None:
            return {
                **self.setup_raw,
                "gateways": self.gateways_json(),
                "devices": [d.to_json(self.setup_oid) for d in self.devices.values()],
            }
        return {
            "creationTime": self.creation_time,
            "lastUpdateTime": self.creation_time,
            "id": f"SETUP-{self.pin}",
            "location": {
                "creationTime": self.creation_time,
                "lastUpdateTime": self.creation_time,
                "city": "Cluses",
                "country": "FR",
                "postalCode": "74300",
                "addressLine1": "",
                "addressLine2": "",
                "timezone": "Europe/Paris",
                "longitude": 6.58,
                "latitude": 46.06,
                "twilightMode": 2,
                "twilightAngle": "SOLAR",
                "twilightCity": "paris",
                "summerSolsticeDuskMinutes": 1290,
                "winterSolsticeDuskMinutes": 990,
                "twilightOffsetEnabled": False,
                "dawnOffset": 0,
                "duskOffset": 0,
            },
            "gateways": [self.gateway_json()],
            "devices": [d.to_json(self.setup_oid) for d in self.devices.values()],
            "zones": [],
            "resellerDelegationType": "NEVER",
            "oid": self.setup_oid,
            "rootPlace": {
                "creationTime": self.creation_time,
                "lastUpdateTime": self.creation_time,
                "label": "My home",
                "type": 200,
                "oid": self.root_place_oid,
                "subPlaces": [
                    {
                        "creationTime": self.creation_time,
                        "lastUpdateTime": self.creation_time,
                        "label": label,
                        "type": 108,
                        "oid": oid,
                        "subPlaces": [],
                    }
                    for label, oid in self.places.items()
                ],
            },
            "features": [],
        }

    def set_firmware(self, up_to_date: bool, firmware: str | None = None) -> None:
        """Mark the box firmware out of date (or current again)."""
        if firmware:
            self.firmware = firmware
        if self.cloud_fields is None:
            self.cloud_fields = {"alive": True, "mode": "ACTIVE"}
        self.cloud_fields["upToDate"] = up_to_date
        self.cloud_fields["updateStatus"] = "UP_TO_DATE" if up_to_date else "READY_TO_UPDATE"

    def forget_volatile(self) -> None:
        """What a reboot loses: listeners and running executions."""
        self.listeners.clear()
        for execution in self.executions.values():
            if execution.task is not None:
                execution.task.cancel()
        self.executions.clear()
