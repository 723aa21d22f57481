"""Run the simulated box: Overkiz API over HTTPS, control API, zeroconf announcement."""

from __future__ import annotations

import asyncio
from pathlib import Path
import secrets

from aiohttp import web

from .advertise import Advertiser, service_info
from .box import Box
from .control_api import create_control_app
from .overkiz_api import API_PATH, create_app
from .scenario import load_profiles, load_scenario
from .tls import ensure_certificate, server_context


def _bound_port(runner: web.AppRunner) -> int:
    address = runner.addresses[0]
    return int(address[1])


class BoxSimulator:
    """One simulated box, started and stopped as a unit (in tests, demo and the CLI)."""

    def __init__(
        self,
        scenario: str = "home",
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 8443,
        control_host: str = "127.0.0.1",
        control_port: int | None = None,
        state_dir: Path = Path("data/simulator"),
        zeroconf: bool = False,
        zeroconf_interface: str = "127.0.0.1",
        move_seconds: float = 1.0,
        reboot_seconds: float = 5.0,
        listener_timeout: float = 600.0,
    ) -> None:
        """Configure the box; nothing listens before ``start``."""
        self.profiles = load_profiles()
        self.box = Box(
            load_scenario(scenario, self.profiles),
            move_seconds=move_seconds,
            listener_timeout=listener_timeout,
            profiles=self.profiles,
        )
        self.token = token or secrets.token_urlsafe(24)
        self.tokens = {self.token}
        self.host = host
        # Port 0: the system picks a free port when the site starts (asking for one earlier
        # and binding it later races other processes). A reboot reuses the port it got.
        self.port = port
        self.control_host = control_host
        if control_port is None:
            control_port = self.port + 1 if port else 0
        self.control_port = control_port
        self.state_dir = state_dir
        self.zeroconf = zeroconf
        self.zeroconf_interface = zeroconf_interface
        self.reboot_seconds = reboot_seconds
        self.online = False
        self.cert_path, self.key_path = ensure_certificate(state_dir, self.box.pin)
        self._ssl = server_context(self.cert_path, self.key_path)
        self._runner = web.AppRunner(
            create_app(self.box, self.tokens, lambda: self.online), access_log=None
        )
        self._control_runner = web.AppRunner(create_control_app(self), access_log=None)
        self._site: web.TCPSite | None = None
        self._advertiser: Advertiser | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._address_counter = 0
        self.box.on_reboot = lambda: self.reboot(self.reboot_seconds)

    @property
    def url(self) -> str:
        """Base URL of the box (``https://host:port``)."""
        return f"https://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Overkiz local API endpoint."""
        return self.url + API_PATH

    @property
    def control_url(self) -> str:
        """Base URL of the control API."""
        return f"http://{self.control_host}:{self.control_port}/simulator"

    async def start(self) -> None:
        """Listen on both ports and announce the box."""
        await self._runner.setup()
        await self._control_runner.setup()
        await web.TCPSite(self._control_runner, self.control_host, self.control_port).start()
        self.control_port = _bound_port(self._control_runner)
        await self.set_online(True)
        if self.zeroconf:
            self._advertiser = Advertiser(
                service_info(self.box.pin, self.zeroconf_interface, self.port, self.box.firmware),
                self.zeroconf_interface,
            )
            await self._advertiser.start()

    async def stop(self) -> None:
        """Stop everything, cancelling pending reboots and executions."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._advertiser is not None:
            await self._advertiser.stop()
        self.box.forget_volatile()
        self.online = False
        await self._runner.cleanup()
        await self._control_runner.cleanup()

    async def set_online(self, online: bool) -> None:
        """Make the Overkiz API reachable or unreachable (connections refused)."""
        if online and self._site is None:
            self._site = web.TCPSite(
                self._runner, self.host, self.port, ssl_context=self._ssl, reuse_address=True
            )
            await self._site.start()
            self.port = _bound_port(self._runner)
        elif not online and self._site is not None:
            await self._site.stop()
            self._site = None
        self.online = online

    def reboot(self, seconds: float) -> None:
        """Reboot in the background: unreachable for ``seconds``, listeners forgotten."""

        async def _reboot() -> None:
            await self.set_online(False)
            self.box.forget_volatile()
            await asyncio.sleep(seconds)
            await self.set_online(True)

        task = asyncio.get_running_loop().create_task(_reboot())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def next_address(self) -> str:
        """A fresh io address for a newly paired device."""
        while True:
            self._address_counter += 1
            address = str(19000000 + self._address_counter)
            if not any(url.endswith("/" + address) for url in self.box.devices):
                return address
