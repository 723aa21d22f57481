"""Build a real pyoverkiz client for the simulator, whichever major version is installed."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession
import pyoverkiz
from pyoverkiz.client import OverkizClient

try:  # pyoverkiz >= 2
    from pyoverkiz.auth.credentials import LocalTokenCredentials
    from pyoverkiz.models import Action, Command
    from pyoverkiz.utils import create_local_server_config

    V2 = True
except ImportError:  # pyoverkiz 1.x
    from pyoverkiz.models import Command  # type: ignore[no-redef,attr-defined]
    from pyoverkiz.utils import generate_local_server  # type: ignore[attr-defined,no-redef]

    V2 = False


def make_client(host: str, token: str, session: ClientSession) -> OverkizClient:
    """A local-API client as Home Assistant builds it (verify_ssl off: self-signed box)."""
    if V2:
        return OverkizClient(
            server=create_local_server_config(host=host),
            credentials=LocalTokenCredentials(token),
            verify_ssl=False,
            session=session,
        )
    return OverkizClient(  # type: ignore[call-arg]
        username="",
        password="",
        token=token,
        server=generate_local_server(host=host),
        verify_ssl=False,
        session=session,
    )


async def execute(client: OverkizClient, device_url: str, name: str, *params: Any) -> str:
    """Run one command, through the API of the installed pyoverkiz."""
    command = Command(name=name, parameters=list(params) if params else None)
    if V2:
        return await client.execute_action_group(
            actions=[Action(device_url=device_url, commands=[command])], label="test"
        )
    return await client.execute_command(device_url, command, "test")  # type: ignore[attr-defined]


def exception(name: str) -> type[Exception]:
    """The pyoverkiz exception class for a 1.x name (``NotAuthenticatedException``)."""
    exceptions = pyoverkiz.exceptions
    if V2:
        name = name.removesuffix("Exception") + "Error"
    cls: type[Exception] = getattr(exceptions, name)
    return cls
