"""Zeroconf announcement of ``_kizboxdev._tcp.local.``, as real boxes publish it."""

from __future__ import annotations

import socket

from zeroconf import IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

SERVICE_TYPE = "_kizboxdev._tcp.local."


def service_info(pin: str, host: str, port: int, firmware: str) -> ServiceInfo:
    """The service record a box with this PIN announces."""
    return ServiceInfo(
        SERVICE_TYPE,
        f"gateway-{pin}.{SERVICE_TYPE}",
        addresses=[socket.inet_aton(host)],
        port=port,
        properties={"gateway_pin": pin, "api_version": "1", "fw_version": firmware},
        server=f"gateway-{pin}.local.",
    )


class Advertiser:
    """Publishes the box on one interface address while the simulator runs."""

    def __init__(self, info: ServiceInfo, interface: str) -> None:
        """Prepare the announcement on ``interface`` (an IPv4 address)."""
        self.info = info
        self.interface = interface
        self._zeroconf: AsyncZeroconf | None = None

    async def start(self) -> None:
        """Register the service."""
        self._zeroconf = AsyncZeroconf(interfaces=[self.interface], ip_version=IPVersion.V4Only)
        await self._zeroconf.async_register_service(self.info)

    async def stop(self) -> None:
        """Unregister the service and close the responder."""
        if self._zeroconf is not None:
            await self._zeroconf.async_unregister_service(self.info)
            await self._zeroconf.async_close()
            self._zeroconf = None
