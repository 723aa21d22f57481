"""Constants of the Somfy Pro integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "somfy_pro"
LOGGER = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8443
DEFAULT_VERIFY_SSL: Final = True

# How often the box's event listener is fetched (the box allows one fetch a second).
EVENT_INTERVAL: Final = timedelta(seconds=1)
# How often the whole setup (gateway and devices) is read again, on top of the events.
SETUP_REFRESH_INTERVAL: Final = timedelta(minutes=5)

# Fired on the bus for every alert raised or cleared.
EVENT_ALERT: Final = "somfy_pro_alert"

ATTR_ALERT: Final = "alert"
ATTR_ACTIVE: Final = "active"
ATTR_DEVICE_URL: Final = "device_url"
ATTR_DEVICE_NAME: Final = "device_name"
ATTR_TIME: Final = "time"

CONFIGURATION_URL: Final = "https://www.tahomalink.com"
MANUFACTURER: Final = "Somfy"

# Overkiz states the integration reads.
STATE_RSSI: Final = "core:RSSILevelState"
STATE_RSSI_DISCRETE: Final = "core:DiscreteRSSILevelState"
STATE_STATUS: Final = "core:StatusState"
STATE_SENSOR_DEFECT: Final = "core:SensorDefectState"
STATE_BATTERY: Final = "core:BatteryState"
STATE_BATTERY_LEVEL: Final = "core:BatteryLevelState"
STATE_ASSEMBLY: Final = "core:AssemblyState"
STATE_INTRUSION_DETECTED: Final = "core:IntrusionDetectedState"
# The box's own alarm: "detected" / "notDetected".
STATE_INTRUSION_DETECTED_INTERNAL: Final = "internal:IntrusionDetectedState"
# The battery of an RTDS alarm's controller (keypad, remote): "normal" / "low".
STATE_CONTROLLER_BATTERY: Final = "rtds:ControllerBatteryState"
STATE_INTRUSION: Final = "core:IntrusionState"
STATE_CONTACT: Final = "core:ContactState"
STATE_OCCUPANCY: Final = "core:OccupancyState"
STATE_SMOKE: Final = "core:SmokeState"
# The panic button of an alarm keypad or remote (pyoverkiz 2: ``OverkizState.CORE_PANIC_EVENT``):
# "detected" while pressed, "notDetected" after (the values are an assumption: see the
# simulator's notes in README.md).
STATE_PANIC: Final = "core:PanicEventState"
ATTRIBUTE_FIRMWARE: Final = "core:FirmwareRevision"
ATTRIBUTE_MANUFACTURER: Final = "core:Manufacturer"
