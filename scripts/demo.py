"""``make demo``: start every piece with embedded defaults and print how to reach it.

Children run as separate processes (their output relayed with a prefix); Ctrl-C stops all.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
from pathlib import Path
import signal
import subprocess
import sys

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "demo"
BOX_TOKEN = os.environ.get("DEMO_BOX_TOKEN", "somfy-pro-demo-token")
BOX_PORT = int(os.environ.get("DEMO_BOX_PORT", "8443"))
PORTAL_PORT = int(os.environ.get("DEMO_PORTAL_PORT", "8080"))
HA_PORT = int(os.environ.get("DEMO_HA_PORT", "8123"))
HA_DIR = DATA / "homeassistant"
HA_USER, HA_PASSWORD = "demo", "demo-password"
HA_CONFIG = f"""\
homeassistant:
  name: Somfy Pro demo
  latitude: 46.06
  longitude: 6.58
  elevation: 500
  unit_system: metric
  time_zone: Europe/Paris
  country: FR
  currency: EUR
http:
  server_host: 127.0.0.1
  server_port: {HA_PORT}
frontend:
config:
repairs:
automation: !include automations.yaml
logger:
  default: warning
"""
ONBOARDING_DONE = (
    '{"version": 4, "minor_version": 1, "key": "onboarding",'
    ' "data": {"done": ["user", "core_config", "analytics", "integration"]}}'
)


def prepare_home_assistant() -> None:
    """Create the demo Home Assistant configuration once: integration, user, no onboarding."""
    (HA_DIR / "custom_components").mkdir(parents=True, exist_ok=True)
    link = HA_DIR / "custom_components" / "somfy_pro"
    if not link.exists():
        link.symlink_to(ROOT / "custom_components" / "somfy_pro")
    config = HA_DIR / "configuration.yaml"
    if not config.exists():
        config.write_text(HA_CONFIG, encoding="utf-8")
        (HA_DIR / "automations.yaml").write_text("[]\n", encoding="utf-8")
    storage = HA_DIR / ".storage"
    if not (storage / "auth_provider.homeassistant").exists():
        subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "homeassistant",
                "--script",
                "auth",
                "-c",
                str(HA_DIR),
                "add",
                HA_USER,
                HA_PASSWORD,
            ],
            check=True,
            capture_output=True,
        )
        (storage / "onboarding").write_text(ONBOARDING_DONE, encoding="utf-8")


def commands() -> list[tuple[str, list[str]]]:
    """The pieces to start: (prefix, argv)."""
    python = sys.executable
    pieces = [
        (
            "box",
            [
                python,
                "-m",
                "box_simulator",
                "--scenario",
                "home",
                "--port",
                str(BOX_PORT),
                "--token",
                BOX_TOKEN,
                "--state-dir",
                str(DATA / "simulator"),
            ],
        )
    ]
    if (ROOT / "companion_server" / "__main__.py").is_file():
        pieces.append(
            (
                "portal",
                [
                    python,
                    "-m",
                    "companion_server",
                    "serve",
                    "--demo",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(PORTAL_PORT),
                    "--database-url",
                    f"sqlite+aiosqlite:///{DATA / 'companion.db'}",
                ],
            )
        )
    if importlib.util.find_spec("hass_frontend") is not None:
        prepare_home_assistant()
        pieces.append(
            (
                "ha",
                [python, "-m", "homeassistant", "-c", str(HA_DIR), "--skip-pip"],
            )
        )
    return pieces


async def relay(prefix: str, stream: asyncio.StreamReader) -> None:
    """Print a child's output line by line with its prefix."""
    while line := await stream.readline():
        print(f"[{prefix}] {line.decode(errors='replace').rstrip()}", flush=True)


async def main() -> int:
    """Start the pieces, wait for Ctrl-C or a child's death, then stop everything."""
    DATA.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        # Tickets by e-mail: the portal's SMTP endpoint on a free port it prints at start.
        "COMPANION_INBOUND_SMTP": "on",
        "COMPANION_INBOUND_SMTP_PORT": os.environ.get("DEMO_INBOUND_SMTP_PORT", "0"),
    }
    children: list[tuple[str, asyncio.subprocess.Process]] = []
    relays = []
    for prefix, argv in commands():
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this launcher only; it stops the children
        )
        assert process.stdout is not None
        children.append((prefix, process))
        relays.append(asyncio.create_task(relay(prefix, process.stdout)))
    print(
        "\nSomfy Pro demo\n"
        f"  Box (simulated TaHoma, PIN 1234-5678-9012): https://127.0.0.1:{BOX_PORT}"
        f"  token {BOX_TOKEN}\n"
        f"  Box control: python -m box_simulator.ctl --control "
        f"http://127.0.0.1:{BOX_PORT + 1}/simulator raise-alert smoke io://1234-5678-9012/10811422\n"
        + (
            f"  Installer portal: http://127.0.0.1:{PORTAL_PORT}/ (logins below)\n"
            if len(children) > 1
            else ""
        )
        + (
            f"  Home Assistant: http://127.0.0.1:{HA_PORT}/ (login {HA_USER} / {HA_PASSWORD}); "
            f"add the box: Settings > Devices & services > Add integration > Somfy Pro,\n"
            f"    host 127.0.0.1:{BOX_PORT}, token {BOX_TOKEN}, verify SSL off\n"
            if any(prefix == "ha" for prefix, _ in children)
            else ""
        )
        + "  Ctrl-C stops everything.\n",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waits = [asyncio.create_task(p.wait()) for _, p in children]
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([*waits, stopper], return_when=asyncio.FIRST_COMPLETED)
    failed = [prefix for (prefix, p) in children if p.returncode not in (None, 0)]
    for _, process in children:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for _, process in children:
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
    stopper.cancel()
    await asyncio.gather(*relays, return_exceptions=True)
    if failed:
        print(f"demo stopped: {', '.join(failed)} exited with an error", file=sys.stderr)
        return 1
    print("demo stopped", flush=True)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))
