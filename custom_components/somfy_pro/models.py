"""What a loaded entry keeps in ``entry.runtime_data``, typed for the modules that read it.

Only the platforms, flows, services and diagnostics read the runtime data; the parts it
holds (coordinator, channel, monitoring, installer actions) are handed what they need when
``__init__`` builds them, so none of them imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:  # pragma: no cover
    from .alerts import AlertTracker
    from .box_api import BoxClient
    from .centre import MonitoringCentre
    from .coordinator import SomfyProCoordinator
    from .installer_actions import InstallerActions
    from .portal_channel import PortalChannel
    from .portal_monitoring import PortalMonitoring
    from .remote_service import RemoteService
    from .subscriptions import Subscriptions
    from .tickets import TicketTracker

type SomfyProConfigEntry = ConfigEntry[SomfyProRuntimeData]


@dataclass(slots=True)
class SomfyProRuntimeData:
    """The box client and coordinator, the alerts, the window, the portal link."""

    client: BoxClient
    coordinator: SomfyProCoordinator
    alerts: AlertTracker
    remote_service: RemoteService
    portal: PortalChannel
    monitoring: PortalMonitoring
    centre: MonitoringCentre
    installer_actions: InstallerActions
    tickets: TicketTracker
    subscriptions: Subscriptions
