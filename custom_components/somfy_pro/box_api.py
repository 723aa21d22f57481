"""The only module that talks to pyoverkiz: one small API over pyoverkiz 1.16 and 2.x.

Home Assistant 2025.4 pins pyoverkiz 1.16 (``OverkizClient(username, password, token=...)``,
``execute_command``, ``*Exception``); current Home Assistant pins 2.x (``LocalTokenCredentials``,
``execute_action_group``, ``*Error``, typed events and mapping-like states). Everything the rest
of the integration sees is defined here, as plain dataclasses and four exceptions, so nothing
else depends on the installed major version.

Longer than this project's usual modules on purpose: it is kept the one module that imports
pyoverkiz, and both its halves (parsing both majors' objects into the dataclasses, and the
client) use the same version switches. Splitting it would make a second pyoverkiz-facing
module; that is the next step if it grows again.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
import importlib
import ipaddress
from typing import TYPE_CHECKING, Any

from aiohttp import ClientConnectorError, ClientError, ClientTimeout, ServerDisconnectedError
import backoff

from .const import DEFAULT_PORT, LOGGER

if TYPE_CHECKING:
    from collections.abc import Iterator

    from aiohttp import ClientSession

type StateValue = str | int | float | bool | list[Any] | dict[str, Any] | None

_client_module: Any = importlib.import_module("pyoverkiz.client")
_exceptions: Any = importlib.import_module("pyoverkiz.exceptions")
_models: Any = importlib.import_module("pyoverkiz.models")
_utils: Any = importlib.import_module("pyoverkiz.utils")
try:  # pyoverkiz >= 2
    _credentials: Any = importlib.import_module("pyoverkiz.auth.credentials")
except ImportError:  # pyoverkiz 1.x
    _credentials = None

PYOVERKIZ_V2 = _credentials is not None
if PYOVERKIZ_V2:
    _converter: Any = importlib.import_module("pyoverkiz.converter").converter
    _check_response: Any = importlib.import_module("pyoverkiz.response_handler").check_response
    _build_errors: tuple[type[Exception], ...] = (
        importlib.import_module("cattrs.errors").BaseValidationError,
    )
else:
    _humps: Any = importlib.import_module("humps")
    _check_response = _client_module.OverkizClient.check_response
    _build_errors = ()
LOCAL_API_PATH = "/enduser-mobile-web/1/enduserAPI/"
PING_TIMEOUT = ClientTimeout(total=5)


def _exception_classes(*names: str) -> tuple[type[Exception], ...]:
    """The pyoverkiz exception classes for 1.x names, in the installed spelling."""
    classes: list[type[Exception]] = []
    for name in names:
        if PYOVERKIZ_V2:
            name = name.removesuffix("Exception") + "Error"
        cls = getattr(_exceptions, name, None)
        if cls is not None:
            classes.append(cls)
    return tuple(classes)


_AUTH_ERRORS = _exception_classes(
    "NotAuthenticatedException",
    "MissingAuthorizationTokenException",
    "BadCredentialsException",
    "InvalidTokenException",
    "AccessDeniedToGatewayException",
)
_LISTENER_ERRORS = _exception_classes(
    "NoRegisteredEventListenerException", "InvalidEventListenerIdException"
)
_UNREACHABLE_ERRORS = _exception_classes(
    "ServiceUnavailableException",
    "TooManyRequestsException",
    "TooManyConcurrentRequestsException",
)
_BASE_ERRORS = _exception_classes("BaseOverkizException")
# What pyoverkiz raises on a device it cannot build.
_DEVICE_BUILD_ERRORS: tuple[type[Exception], ...] = (
    TypeError,
    ValueError,
    KeyError,
    *_build_errors,
    *_BASE_ERRORS,
)


class BoxError(Exception):
    """The box answered with an error the integration cannot do much about."""


class BoxConnectionError(BoxError):
    """The box cannot be reached (off, rebooting, wrong address, network down)."""


class BoxAuthenticationError(BoxError):
    """The box rejects the token ("Not authenticated.")."""


class BoxListenerLostError(BoxError):
    """The box forgot the event listener (reboot, or ten minutes without a fetch)."""


@dataclass(frozen=True, slots=True)
class Gateway:
    """The box itself, as ``setup/gateways`` describes it.

    ``alive``, ``mode``, ``up_to_date`` and ``update_status`` are cloud-style fields that only
    some firmware reports on the local API; they are None when the box does not report them.
    """

    id: str
    firmware: str | None = None
    alive: bool | None = None
    mode: str | None = None
    up_to_date: bool | None = None
    update_status: str | None = None
    model: str | None = None
    # Overkiz gateway type and sub-type codes (the model is named from them).
    type: int | None = None
    sub_type: int | None = None


@dataclass(slots=True)
class Device:
    """One paired product with its current states and attributes.

    ``declared_states`` are the state names its definition lists. Real boxes declare some
    states (``core:SensorDefectState``, ``core:BatteryState``, ...) that they report only once
    something happens: such a state is declared but absent from ``states`` until then.
    """

    url: str
    label: str
    controllable_name: str
    ui_class: str
    widget: str
    available: bool
    place: str | None = None
    states: dict[str, StateValue] = field(default_factory=dict)
    attributes: dict[str, StateValue] = field(default_factory=dict)
    declared_states: tuple[str, ...] = ()

    def has_state(self, name: str) -> bool:
        """Whether the product reports the state, or declares that it may report it."""
        return name in self.states or name in self.declared_states

    @property
    def known_states(self) -> frozenset[str]:
        """The states the product reports or declares that it may report."""
        return frozenset({*self.states, *self.declared_states})

    @property
    def protocol(self) -> str:
        """The radio protocol (``io``, ``rts``, ``internal``, ...)."""
        return self.url.partition("://")[0]

    @property
    def base_url(self) -> str:
        """The URL of the physical product (sub-devices share it, without ``#n``)."""
        return self.url.partition("#")[0]


@dataclass(frozen=True, slots=True)
class Setup:
    """The box and its devices, keyed by device URL."""

    gateway: Gateway
    devices: dict[str, Device]


@dataclass(frozen=True, slots=True)
class Event:
    """One event of the box's listener, with its state values already cast."""

    name: str
    device_url: str | None = None
    states: dict[str, StateValue] = field(default_factory=dict)
    timestamp: int | None = None
    # A failed execution: why, and the products whose commands failed.
    failure: str | None = None
    failed_urls: tuple[str, ...] = ()


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Turn pyoverkiz and aiohttp errors into the integration's four exceptions."""
    try:
        yield
    except _AUTH_ERRORS as err:
        raise BoxAuthenticationError(str(err) or "Not authenticated") from err
    except _LISTENER_ERRORS as err:
        raise BoxListenerLostError(str(err)) from err
    except _UNREACHABLE_ERRORS as err:
        raise BoxConnectionError(str(err) or type(err).__name__) from err
    except (ClientError, TimeoutError, OSError) as err:
        raise BoxConnectionError(str(err) or type(err).__name__) from err
    except _BASE_ERRORS as err:
        raise BoxError(str(err) or type(err).__name__) from err


def _value(value: Any) -> StateValue:
    """A state or attribute value as plain JSON-able Python."""
    if value is None or isinstance(value, (bool, int, float, list, dict)):
        return value
    return str(value)


def _state_values(states: Any) -> dict[str, StateValue]:
    """States of a device or an event: 2.x has a mapping, 1.x an iterable of State."""
    if states is None:
        return {}
    if hasattr(states, "items"):
        return {str(name): _value(state.value) for name, state in states.items()}
    return {str(state.name): _value(state.value) for state in states}


def _declared_states(definition: Any) -> tuple[str, ...]:
    """State names of a definition: 2.x maps them to their definitions, 1.x lists these."""
    states = getattr(definition, "states", None)
    if not states:
        return ()
    if hasattr(states, "keys"):
        return tuple(str(name) for name in states)
    names = (getattr(state, "qualified_name", None) for state in states)
    return tuple(str(name) for name in names if name)


def _enum_text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _gateway(raw: Any) -> Gateway:
    connectivity = getattr(raw, "connectivity", None)
    gateway_type = getattr(raw, "type", None)
    model = None
    if gateway_type is not None:
        model = getattr(gateway_type, "beautify_name", None) or str(gateway_type)
    return Gateway(
        id=str(raw.id),
        firmware=getattr(connectivity, "protocol_version", None),
        alive=getattr(raw, "alive", None),
        mode=getattr(raw, "mode", None),
        up_to_date=getattr(raw, "up_to_date", None),
        update_status=_enum_text(getattr(raw, "update_status", None)),
        model=model,
        type=_code(gateway_type),
        sub_type=_code(getattr(raw, "sub_type", None)),
    )


def _code(value: Any) -> int | None:
    """An Overkiz type code, whether pyoverkiz gives it as an enum member or an int."""
    code = getattr(value, "value", value)
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _places(root: Any) -> dict[str, str]:
    """Place oid -> label, for every place under the root place (not the root itself)."""
    places: dict[str, str] = {}
    pending = list(getattr(root, "sub_places", None) or [])
    while pending:
        place = pending.pop()
        places[str(place.oid)] = str(place.label)
        pending.extend(getattr(place, "sub_places", None) or [])
    return places


def _device(raw: Any, places: dict[str, str]) -> Device:
    place_oid = getattr(raw, "place_oid", None)
    return Device(
        url=str(raw.device_url),
        label=str(raw.label),
        controllable_name=str(raw.controllable_name),
        ui_class=_enum_text(raw.ui_class) or "",
        widget=_enum_text(raw.widget) or "",
        available=bool(raw.available),
        place=places.get(str(place_oid)) if place_oid else None,
        states=_state_values(raw.states),
        attributes=_state_values(raw.attributes),
        declared_states=_declared_states(getattr(raw, "definition", None)),
    )


def _missing_fields(raw: Any) -> list[str]:
    """What a raw device of ``GET setup`` lacks for pyoverkiz to build it (both majors).

    Some firmware lists devices with little more than a URL and states (``ogp`` bridges next
    to a Sonos bridge); pyoverkiz 1.x raises TypeError on them, 2.x drops them with a warning
    at every read. They are dropped here first, the same way on both majors.
    """
    if not isinstance(raw, dict):
        return ["object"]
    definition = raw.get("definition")
    if not isinstance(definition, dict):
        definition = {}
    present = {
        "deviceURL": isinstance(raw.get("deviceURL"), str),
        "label": isinstance(raw.get("label"), str),
        "available": isinstance(raw.get("available"), bool),
        "enabled": isinstance(raw.get("enabled"), bool),
        "controllableName": isinstance(raw.get("controllableName"), str),
        "type": isinstance(raw.get("type"), int),
        "definition": bool(definition),
        "uiClass": bool(raw.get("uiClass") or definition.get("uiClass")),
        "widget": bool(raw.get("widget") or definition.get("widgetName")),
    }
    return [name for name, ok in present.items() if not ok]


def _build_setup(raw: dict[str, Any]) -> Any:
    """The pyoverkiz Setup without its devices (they are built one by one)."""
    bare = {**raw, "devices": []}
    if PYOVERKIZ_V2:
        return _converter.structure(bare, _models.Setup)
    return _models.Setup(**_humps.decamelize(bare))


def _build_device(raw: dict[str, Any]) -> Any:
    """The pyoverkiz Device of one raw device, as its own ``get_setup`` builds it."""
    if PYOVERKIZ_V2:
        return _converter.structure(raw, _models.Device)
    return _models.Device(**_humps.decamelize(raw))


def _failed_url(command: Any) -> str:
    """The product of a failed command (pyoverkiz may have decamelized the key)."""
    if not isinstance(command, dict):
        return ""
    return str(command.get("deviceURL") or command.get("device_url") or "")


def _event(raw: Any) -> Event:
    device_url = getattr(raw, "device_url", None)
    failed = _enum_text(getattr(raw, "new_state", None)) == "FAILED"
    commands = getattr(raw, "failed_commands", None) or [] if failed else []
    return Event(
        name=_enum_text(raw.name) or "",
        device_url=str(device_url) if device_url else None,
        states=_state_values(getattr(raw, "device_states", None)),
        timestamp=getattr(raw, "timestamp", None),
        failure=(_enum_text(getattr(raw, "failure_type", None)) or "FAILED") if failed else None,
        failed_urls=tuple(_failed_url(c) for c in commands if _failed_url(c)),
    )


def parse_setup(raw: Any, skipped: set[str] | None = None) -> Setup:
    """The box and its devices from the raw answer of ``GET setup``.

    The answer goes to pyoverkiz's models device by device, so that one device the box
    describes incompletely does not sink the whole box: it is skipped, with one debug line
    (``skipped`` holds the URLs already logged).
    """
    setup = _build_setup(raw)
    if not setup.gateways:
        raise BoxError("The box reports no gateway")
    places = _places(getattr(setup, "root_place", None))
    logged = set() if skipped is None else skipped
    devices = [_device(built, places) for built in _usable_devices(raw["devices"], logged)]
    return Setup(gateway=_gateway(setup.gateways[0]), devices={d.url: d for d in devices})


def _usable_devices(raw_devices: list[Any], logged: set[str]) -> Iterator[Any]:
    """The pyoverkiz Devices of the raw devices it can build."""
    for raw in raw_devices:
        missing = _missing_fields(raw)
        built = None
        if not missing:
            try:
                built = _build_device(raw)
            except _DEVICE_BUILD_ERRORS as err:
                missing = [f"readable shape ({type(err).__name__}: {err})"]
        if built is not None:
            yield built
            continue
        url = str(raw.get("deviceURL")) if isinstance(raw, dict) else repr(raw)[:80]
        if url not in logged:
            logged.add(url)
            LOGGER.debug("Skipping device %s: the box sends no %s", url, ", ".join(missing))


def host_is_ip_address(host: str) -> bool:
    """Whether ``host:port`` names the box by IP address (not by its ``.local`` name)."""
    name = host.rpartition(":")[0] if host.count(":") == 1 or host.startswith("[") else host
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def normalize_host(host: str, port: int | None = None) -> str:
    """``host:port`` as the local API needs it (the box's port unless given)."""
    host = host.strip().removeprefix("https://").rstrip("/")
    if port is not None:
        return f"{host}:{port}"
    if host.startswith("["):  # IPv6 literal, with or without port
        return host if "]:" in host else f"{host}:{DEFAULT_PORT}"
    if host.count(":") == 1:
        return host
    if ":" in host:  # a bare IPv6 address
        return f"[{host}]:{DEFAULT_PORT}"
    return f"{host}:{DEFAULT_PORT}"


class BoxClient:
    """A Somfy box on the local network, through the installed pyoverkiz."""

    def __init__(self, session: ClientSession, host: str, token: str, verify_ssl: bool) -> None:
        """Build the pyoverkiz client; ``host`` is ``host:port``. Nothing is sent yet."""
        self.host = host
        self._session = session
        self._token = token
        self._skipped: set[str] = set()
        self._ssl: Any = _client_module.SSL_CONTEXT_LOCAL_API if verify_ssl else False
        self._client: Any
        if PYOVERKIZ_V2:
            self._client = _client_module.OverkizClient(
                server=_utils.create_local_server_config(host=host),
                credentials=_credentials.LocalTokenCredentials(token),
                verify_ssl=verify_ssl,
                session=session,
            )
        else:
            self._client = _client_module.OverkizClient(
                username="",
                password="",
                token=token,
                server=_utils.generate_local_server(host=host),
                verify_ssl=verify_ssl,
                session=session,
            )

    async def ping(self) -> None:
        """Check, with one plain request, that the box answers at all.

        pyoverkiz retries (and logs) every failed request; while the box is known to be
        unreachable this cheap check comes first, so that a box that stays off costs one
        refused connection per cycle and no log line.
        """
        url = f"https://{self.host}{LOCAL_API_PATH}apiVersion"
        try:
            async with self._session.get(url, ssl=self._ssl, timeout=PING_TIMEOUT) as response:
                await response.read()
        except (ClientError, TimeoutError, OSError) as err:
            raise BoxConnectionError(str(err) or type(err).__name__) from err

    @property
    def listener_id(self) -> str | None:
        """The box's id of our event listener, when one is registered."""
        listener: str | None = self._client.event_listener_id
        return listener

    async def get_gateway(self) -> Gateway:
        """Read the box (validates host and token: used by the config flow)."""
        with _translate_errors():
            gateways = await self._client.get_gateways(refresh=True)
        if not gateways:
            raise BoxError("The box reports no gateway")
        return _gateway(gateways[0])

    async def get_setup(self) -> Setup:
        """Read the box and every paired device pyoverkiz can read (others are skipped)."""
        with _translate_errors():
            raw = await self._get_json("setup")
        return parse_setup(raw, self._skipped)

    @backoff.on_exception(
        backoff.expo,
        (TimeoutError, ClientConnectorError, ServerDisconnectedError),
        max_tries=3,
        max_time=30,
        jitter=backoff.full_jitter,
        logger=None,
    )
    async def _get_json(self, path: str) -> Any:
        """GET one path of the local API, errors checked by pyoverkiz's own response check.

        Retried as pyoverkiz retries its own requests: a box that closed a kept-alive
        connection or is slow to accept one is not unreachable yet.
        """
        url = f"https://{self.host}{LOCAL_API_PATH}{path}"
        headers = {"Authorization": f"Bearer {self._token}"}
        async with self._session.get(url, headers=headers, ssl=self._ssl) as response:
            await _check_response(response)
            return await response.json()

    async def register_listener(self) -> str:
        """Register a new event listener (the box keeps one per client)."""
        with _translate_errors():
            listener: str = await self._client.register_event_listener()
        return listener

    async def fetch_events(self) -> list[Event]:
        """Fetch and clear the listener's events.

        Raises BoxListenerLostError when the box forgot the listener (the caller registers a
        new one and reads the whole setup again: events were lost meanwhile).
        """
        if self._client.event_listener_id is None:
            raise BoxListenerLostError("No registered event listener")
        with _translate_errors():
            raw_events = await self._client.fetch_events()
        return [_event(raw) for raw in raw_events]

    async def unregister_listener(self) -> None:
        """Drop the event listener; errors are ignored (the box forgets it anyway)."""
        if self._client.event_listener_id is None:
            return
        try:
            with _translate_errors():
                await self._client.unregister_event_listener()
        except BoxError:
            pass
        # Forget it locally even when the box could not be told.
        if PYOVERKIZ_V2:
            self._client._event_listener_id = None
        else:
            self._client.event_listener_id = None

    async def execute(
        self, device_url: str, command: str, *parameters: Any, label: str = "Home Assistant"
    ) -> str:
        """Run one command on one device; return the execution id."""
        params = list(parameters) if parameters else None
        with _translate_errors():
            if PYOVERKIZ_V2:
                exec_id: str = await self._client.execute_action_group(
                    actions=[
                        _models.Action(
                            device_url=device_url,
                            commands=[_models.Command(name=command, parameters=params)],
                        )
                    ],
                    label=label,
                )
            else:
                exec_id = await self._client.execute_command(
                    device_url, _models.Command(name=command, parameters=params), label
                )
        return exec_id
