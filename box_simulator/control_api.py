"""The simulator's control API (``/simulator/...``): what tests and demos do to the box."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from .errors import BoxError
from .scenario import DeviceSpec

if TYPE_CHECKING:
    from .box import Box
    from .scenario import Profile


class Simulator(Protocol):
    """What the control API drives: the :class:`box_simulator.server.BoxSimulator`.

    A protocol, so that the server imports this module and not the other way round.
    """

    box: Box
    profiles: dict[str, Profile]
    tokens: set[str]
    online: bool
    reboot_seconds: float

    async def set_online(self, online: bool) -> None:
        """Make the Overkiz API reachable or unreachable."""

    def reboot(self, seconds: float) -> None:
        """Reboot in the background: unreachable for ``seconds``."""

    def next_address(self) -> str:
        """A fresh io address for a newly paired device."""


SIMULATOR_KEY: web.AppKey[Simulator] = web.AppKey("simulator")

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer bad control requests with a 400 and the reason; never crash."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except BoxError as err:
        return web.json_response({"error": err.message}, status=400)
    except (ValueError, KeyError, TypeError) as err:
        return web.json_response({"error": str(err)}, status=400)
    except Exception as err:  # the control API reports any failure to its caller
        return web.json_response({"error": repr(err)}, status=500)


async def _args(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _sim(request: web.Request) -> Simulator:
    return request.app[SIMULATOR_KEY]


def _ok(**extra: Any) -> web.Response:
    return web.json_response({"ok": True, **extra})


async def state(request: web.Request) -> web.Response:
    """GET /simulator/state: the box and every device with its states."""
    sim = _sim(request)
    box = sim.box
    return web.json_response(
        {
            "pin": box.pin,
            "online": sim.online,
            "firmware": box.firmware,
            "gateway": box.gateway_json(),
            "listeners": len(box.listeners),
            "devices": [
                {
                    "url": d.url,
                    "label": d.label,
                    "profile": d.profile.name,
                    "available": d.available,
                    "states": {name: value for name, (_, value) in d.states.items()},
                    "editable": sorted(d.profile.editable),
                }
                for d in box.devices.values()
            ],
        }
    )


async def alert(request: web.Request) -> web.Response:
    """POST /simulator/alert {"device", "type", "active"}."""
    args = await _args(request)
    _sim(request).box.set_alert(args["device"], args["type"], bool(args.get("active", True)))
    return _ok()


async def device_online(request: web.Request) -> web.Response:
    """POST /simulator/device/online {"device", "online"}."""
    args = await _args(request)
    _sim(request).box.set_device_online(args["device"], bool(args["online"]))
    return _ok()


async def device_rssi(request: web.Request) -> web.Response:
    """POST /simulator/device/rssi {"device", "level"}."""
    args = await _args(request)
    _sim(request).box.set_rssi(args["device"], int(args["level"]))
    return _ok()


async def device_states(request: web.Request) -> web.Response:
    """POST /simulator/device/states {"device", "states": {name: value}, "types"?: {name: int}}.

    Any state of any device, to any JSON value; ``types`` forces Overkiz type codes.
    """
    args = await _args(request)
    states, types = args.get("states"), args.get("types") or {}
    if not isinstance(states, dict) or not states:
        raise ValueError("states must be a JSON object of state names and values")
    if not isinstance(types, dict) or not all(
        isinstance(t, int) and not isinstance(t, bool) for t in types.values()
    ):
        raise ValueError("types must map state names to Overkiz type codes (integers)")
    _sim(request).box.set_states(str(args["device"]), states, types)
    return _ok()


async def box_online(request: web.Request) -> web.Response:
    """POST /simulator/box/online {"online"}."""
    args = await _args(request)
    await _sim(request).set_online(bool(args["online"]))
    return _ok()


async def box_reboot(request: web.Request) -> web.Response:
    """POST /simulator/box/reboot {"seconds"?}: the API goes away and listeners are lost."""
    args = await _args(request)
    sim = _sim(request)
    sim.reboot(float(args.get("seconds", sim.reboot_seconds)))
    return _ok()


async def box_firmware(request: web.Request) -> web.Response:
    """POST /simulator/box/firmware {"up_to_date", "firmware"?}."""
    args = await _args(request)
    _sim(request).box.set_firmware(bool(args["up_to_date"]), args.get("firmware"))
    return _ok()


async def pair(request: web.Request) -> web.Response:
    """POST /simulator/pair {"profile", "label", "address"?, "place"?}."""
    args = await _args(request)
    sim = _sim(request)
    profile = sim.profiles[args["profile"]]
    address = str(args.get("address") or sim.next_address())
    if profile.protocol != "internal" and not address.isdigit():
        raise ValueError("address must be digits")
    device = sim.box.pair(
        DeviceSpec(
            profile=profile, address=address, label=str(args["label"]), place=args.get("place")
        )
    )
    return _ok(device=device.url)


async def press_remote(request: web.Request) -> web.Response:
    """POST /simulator/remote/press {"address", "label"?}: PROG pressed on a remote."""
    args = await _args(request)
    device = _sim(request).box.press_remote(str(args["address"]), args.get("label"))
    return _ok(device=device.url)


async def unpair(request: web.Request) -> web.Response:
    """POST /simulator/unpair {"device"}."""
    args = await _args(request)
    _sim(request).box.unpair(args["device"])
    return _ok()


async def tokens(request: web.Request) -> web.Response:
    """POST /simulator/tokens {"add"?, "remove"?}: issue or revoke local API tokens."""
    args = await _args(request)
    sim = _sim(request)
    if add := args.get("add"):
        sim.tokens.add(str(add))
    if remove := args.get("remove"):
        sim.tokens.discard(str(remove))
    return _ok(count=len(sim.tokens))


def create_control_app(simulator: Simulator) -> web.Application:
    """Build the control application."""
    app = web.Application(middlewares=[error_middleware])
    app[SIMULATOR_KEY] = simulator
    app.router.add_get("/simulator/state", state)
    app.router.add_post("/simulator/alert", alert)
    app.router.add_post("/simulator/device/online", device_online)
    app.router.add_post("/simulator/device/rssi", device_rssi)
    app.router.add_post("/simulator/device/states", device_states)
    app.router.add_post("/simulator/box/online", box_online)
    app.router.add_post("/simulator/box/reboot", box_reboot)
    app.router.add_post("/simulator/box/firmware", box_firmware)
    app.router.add_post("/simulator/pair", pair)
    app.router.add_post("/simulator/unpair", unpair)
    app.router.add_post("/simulator/remote/press", press_remote)
    app.router.add_post("/simulator/tokens", tokens)
    return app
