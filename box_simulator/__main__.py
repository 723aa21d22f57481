"""``python -m box_simulator``: run a simulated Somfy box until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from pathlib import Path
import signal

from .server import BoxSimulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (each also readable from a SIMULATOR_* variable)."""
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m box_simulator", description="Simulated Somfy box (Overkiz local API)."
    )
    parser.add_argument(
        "--scenario",
        default=env("SIMULATOR_SCENARIO", "home"),
        help="scenario name (home, large) or path to a scenario JSON file",
    )
    parser.add_argument(
        "--host",
        default=env("SIMULATOR_HOST", "127.0.0.1"),
        help="address the Overkiz API listens on",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(env("SIMULATOR_PORT", "8443")),
        help="HTTPS port of the Overkiz API (0: any free port)",
    )
    parser.add_argument(
        "--token",
        default=env("SIMULATOR_TOKEN"),
        help="local API bearer token (default: random, printed)",
    )
    parser.add_argument(
        "--control-host",
        default=env("SIMULATOR_CONTROL_HOST", "127.0.0.1"),
        help="address of the control API",
    )
    parser.add_argument(
        "--control-port", type=int, default=None, help="port of the control API (default: port + 1)"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(env("SIMULATOR_STATE_DIR", "data/simulator")),
        help="folder keeping the TLS certificate",
    )
    parser.add_argument(
        "--no-zeroconf", action="store_true", help="do not announce _kizboxdev._tcp.local."
    )
    parser.add_argument(
        "--zeroconf-interface",
        default="127.0.0.1",
        help="IPv4 address to announce on (default: loopback only)",
    )
    parser.add_argument(
        "--move-seconds", type=float, default=1.0, help="how long a cover takes to reach its target"
    )
    parser.add_argument(
        "--reboot-seconds", type=float, default=5.0, help="how long a reboot keeps the API down"
    )
    return parser.parse_args(argv)


def _simulator(args: argparse.Namespace) -> BoxSimulator:
    return BoxSimulator(
        args.scenario,
        token=args.token,
        host=args.host,
        port=args.port,
        control_host=args.control_host,
        control_port=args.control_port,
        state_dir=args.state_dir,
        zeroconf=not args.no_zeroconf,
        zeroconf_interface=args.zeroconf_interface,
        move_seconds=args.move_seconds,
        reboot_seconds=args.reboot_seconds,
    )


async def run(args: argparse.Namespace) -> None:
    """Start the box, print how to reach it, and wait for a stop signal."""
    try:
        simulator = _simulator(args)
    except ValueError as err:  # a scenario file that does not describe a box
        raise SystemExit(f"cannot load scenario {args.scenario}: {err}") from None
    await simulator.start()
    print(f"Simulated box {simulator.box.pin} ({len(simulator.box.devices)} devices)", flush=True)
    print(f"  Overkiz local API: {simulator.api_url}", flush=True)
    print(f"  Token:             {simulator.token}", flush=True)
    print(f"  Certificate:       {simulator.cert_path}", flush=True)
    print(f"  Control API:       {simulator.control_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await simulator.stop()


def main() -> None:
    """Entry point."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
