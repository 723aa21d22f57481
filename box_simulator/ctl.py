"""``python -m box_simulator.ctl``: drive a running simulator through its control API."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

import aiohttp


def build_parser() -> argparse.ArgumentParser:
    """Sub-commands mirroring the control API."""
    parser = argparse.ArgumentParser(prog="python -m box_simulator.ctl")
    parser.add_argument(
        "--control",
        default=os.environ.get("SIMULATOR_CONTROL", "http://127.0.0.1:8444/simulator"),
        help="control API base URL",
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("state", help="print the box and its devices")
    for verb in ("raise", "clear"):
        p = sub.add_parser(f"{verb}-alert", help=f"{verb} an alert on a device")
        p.add_argument(
            "type",
            choices=["intrusion", "tamper", "smoke", "aggression", "battery_low", "sensor_defect"],
        )
        p.add_argument("device", help="device URL, e.g. io://1234-5678-9012/10338254")
    for verb in ("offline", "online"):
        p = sub.add_parser(f"device-{verb}", help=f"take a device {verb}")
        p.add_argument("device")
    p = sub.add_parser("rssi", help="set a device's radio level (0-100)")
    p.add_argument("device")
    p.add_argument("level", type=int)
    p = sub.add_parser(
        "set-state",
        help="set any state of a device (reported or not) and send DeviceStateChangedEvent",
    )
    p.add_argument("device")
    p.add_argument("state", help="state name, e.g. core:BatteryState")
    p.add_argument("value", help='JSON value (false, 45.9, "100%%", {"a": 1}, null) or text')
    p.add_argument("--type", type=int, help="Overkiz type code (default: from the value)")
    sub.add_parser("box-offline", help="make the box unreachable")
    sub.add_parser("box-online", help="make the box reachable again")
    p = sub.add_parser("reboot", help="reboot the box")
    p.add_argument("--seconds", type=float, default=5.0)
    p = sub.add_parser("firmware", help="mark the firmware outdated or current")
    p.add_argument("status", choices=["outdated", "current"])
    p = sub.add_parser("pair", help="pair a new device")
    p.add_argument("profile", help="profile name, e.g. io_contact_sensor")
    p.add_argument("label")
    p = sub.add_parser("press-remote", help="press PROG on a remote while the box is pairing")
    p.add_argument("address", help="the remote's io address (6 to 8 hex digits)")
    p = sub.add_parser("unpair", help="remove a device")
    p.add_argument("device")
    return parser


def request_for(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    """Translate parsed arguments into (method, path, body)."""
    cmd = args.cmd
    if cmd == "state":
        return "GET", "/state", None
    if cmd in ("raise-alert", "clear-alert"):
        return (
            "POST",
            "/alert",
            {"device": args.device, "type": args.type, "active": cmd == "raise-alert"},
        )
    if cmd in ("device-offline", "device-online"):
        return "POST", "/device/online", {"device": args.device, "online": cmd == "device-online"}
    if cmd == "rssi":
        return "POST", "/device/rssi", {"device": args.device, "level": args.level}
    if cmd == "set-state":
        body: dict[str, Any] = {"device": args.device, "states": {args.state: _value(args.value)}}
        if args.type is not None:
            body["types"] = {args.state: args.type}
        return "POST", "/device/states", body
    if cmd in ("box-offline", "box-online"):
        return "POST", "/box/online", {"online": cmd == "box-online"}
    if cmd == "reboot":
        return "POST", "/box/reboot", {"seconds": args.seconds}
    if cmd == "firmware":
        return "POST", "/box/firmware", {"up_to_date": args.status == "current"}
    if cmd == "pair":
        return "POST", "/pair", {"profile": args.profile, "label": args.label}
    if cmd == "press-remote":
        return "POST", "/remote/press", {"address": args.address}
    return "POST", "/unpair", {"device": args.device}


def _value(text: str) -> Any:
    """A command-line value: JSON when it parses (false, -55, 45.9, {...}), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


async def call(base: str, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
    """Send one control request."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, base + path, json=body) as response,
    ):
        return response.status, await response.json()


def main(argv: list[str] | None = None) -> int:
    """Run one control command and print its JSON answer."""
    args = build_parser().parse_args(argv)
    method, path, body = request_for(args)
    try:
        status, answer = asyncio.run(call(args.control, method, path, body))
    except aiohttp.ClientError as err:
        print(f"cannot reach the simulator at {args.control}: {err}", file=sys.stderr)
        return 2
    print(json.dumps(answer, indent=2))
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
