"""The Overkiz local API (``/enduser-mobile-web/1/enduserAPI/``) over the simulated box."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import hmac
import json
import logging
from typing import Any
import urllib.parse

from aiohttp import web

from . import errors
from .box import PROTOCOL_VERSION, Box
from .device import state_json

API_PATH = "/enduser-mobile-web/1/enduserAPI/"
BOX_KEY: web.AppKey[Box] = web.AppKey("box", Box)
TOKENS_KEY: web.AppKey[set[str]] = web.AppKey("tokens", set)
ONLINE_KEY: web.AppKey[Callable[[], bool]] = web.AppKey("online")
_LOGGER = logging.getLogger(__name__)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


@web.middleware
async def box_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Reachability, bearer-token auth and the box's error bodies."""
    if not request.app[ONLINE_KEY]():
        # An unreachable box: drop the connection, as a powered-off box would.
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPServiceUnavailable
    try:
        if request.path != API_PATH + "apiVersion":
            _authenticate(request)
        return await handler(request)
    except errors.BoxError as err:
        return _json(err.body(), err.status)
    except web.HTTPNotFound:
        return _json(errors.no_such_resource().body(), 404)
    except web.HTTPMethodNotAllowed:
        return _json(errors.no_such_resource().body(), 404)
    except Exception:
        _LOGGER.exception("Unexpected error on %s %s", request.method, request.path)
        return _json({"errorCode": "UNSPECIFIED_ERROR", "error": "Internal error"}, 500)


def _authenticate(request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    if not header:
        raise errors.missing_token()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not any(
        hmac.compare_digest(token.encode(), known.encode()) for known in request.app[TOKENS_KEY]
    ):
        raise errors.not_authenticated()


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_request("Unable to parse request body : malformed JSON") from None


def _device_url(request: web.Request) -> str:
    """The device URL of the path, whether the client percent-encoded it or not."""
    return urllib.parse.unquote(request.match_info["url"])


def _box(request: web.Request) -> Box:
    return request.app[BOX_KEY]


async def api_version(request: web.Request) -> web.Response:
    """GET apiVersion."""
    return _json({"protocolVersion": PROTOCOL_VERSION})


async def setup(request: web.Request) -> web.Response:
    """GET setup."""
    return _json(_box(request).setup_json())


async def gateways(request: web.Request) -> web.Response:
    """GET setup/gateways."""
    return _json(_box(request).gateways_json())


async def devices(request: web.Request) -> web.Response:
    """GET setup/devices."""
    box = _box(request)
    return _json([d.to_json(box.setup_oid) for d in box.devices.values()])


async def device(request: web.Request) -> web.Response:
    """GET setup/devices/{deviceURL}."""
    box = _box(request)
    return _json(box.device(_device_url(request)).to_json(box.setup_oid))


async def device_states(request: web.Request) -> web.Response:
    """GET setup/devices/{deviceURL}/states."""
    dev = _box(request).device(_device_url(request))
    return _json(dev.states_json())


async def device_state(request: web.Request) -> web.Response:
    """GET setup/devices/{deviceURL}/states/{name}."""
    dev = _box(request).device(_device_url(request))
    name = request.match_info["name"]
    if name not in dev.states:
        raise errors.BoxError(400, "UNSPECIFIED_ERROR", f"No such state : {name}")
    return _json(state_json(name, *dev.states[name]))


async def register(request: web.Request) -> web.Response:
    """POST events/register."""
    return _json({"id": _box(request).register_listener()})


async def fetch(request: web.Request) -> web.Response:
    """POST events/{id}/fetch."""
    return _json(_box(request).fetch(request.match_info["listener"]))


async def unregister(request: web.Request) -> web.Response:
    """POST events/{id}/unregister."""
    _box(request).unregister_listener(request.match_info["listener"])
    return _json({})


async def apply(request: web.Request) -> web.Response:
    """POST exec/apply."""
    return _json({"execId": _box(request).apply(await _body(request))})


async def current(request: web.Request) -> web.Response:
    """GET exec/current."""
    return _json([e.to_json() for e in _box(request).executions.values()])


async def current_one(request: web.Request) -> web.Response:
    """GET exec/current/{execId}."""
    execution = _box(request).executions.get(request.match_info["exec_id"])
    if execution is None:
        raise errors.unknown_object()
    return _json(execution.to_json())


async def cancel_all(request: web.Request) -> web.Response:
    """DELETE exec/current/setup."""
    _box(request).cancel()
    return _json({})


async def cancel_one(request: web.Request) -> web.Response:
    """DELETE exec/current/setup/{execId}."""
    _box(request).cancel(request.match_info["exec_id"])
    return _json({})


def create_app(box: Box, tokens: set[str], online: Callable[[], bool]) -> web.Application:
    """Build the Overkiz API application."""
    app = web.Application(middlewares=[box_middleware])
    app[BOX_KEY] = box
    app[TOKENS_KEY] = tokens
    app[ONLINE_KEY] = online
    device_url = "{url:.+?}"
    # Some clients join the endpoint and "/exec/..." with a double slash: serve both.
    for prefix in (API_PATH, API_PATH + "/"):
        app.router.add_delete(prefix + "exec/current/setup", cancel_all)
        app.router.add_delete(prefix + "exec/current/setup/{exec_id}", cancel_one)
    p = API_PATH
    app.router.add_get(p + "apiVersion", api_version)
    app.router.add_get(p + "setup", setup)
    app.router.add_get(p + "setup/gateways", gateways)
    app.router.add_get(p + "setup/devices", devices)
    app.router.add_get(p + f"setup/devices/{device_url}/states/{{name}}", device_state)
    app.router.add_get(p + f"setup/devices/{device_url}/states", device_states)
    app.router.add_get(p + f"setup/devices/{device_url}", device)
    app.router.add_post(p + "events/register", register)
    app.router.add_post(p + "events/{listener}/fetch", fetch)
    app.router.add_post(p + "events/{listener}/unregister", unregister)
    app.router.add_post(p + "exec/apply", apply)
    app.router.add_get(p + "exec/current", current)
    app.router.add_get(p + "exec/current/{exec_id}", current_one)
    return app
