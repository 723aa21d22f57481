"""What the benchmarks run inside Home Assistant's test harness share: box, figures, runner."""

from __future__ import annotations

import logging
import sys
from types import ModuleType

import pytest

from benchmarks.figures import report

__all__ = ["report"]  # the figures of the benchmarks run in the harness

TOKEN = "benchmark-token"
PIN = "1234-5678-9012"
# Devices and the simulator alert they can raise.
SOURCES = [
    (f"io://{PIN}/10811422", "smoke"),
    (f"io://{PIN}/10811423", "tamper"),
    (f"io://{PIN}/10338254", "intrusion"),
    (f"io://{PIN}/10552810", "intrusion"),
    (f"io://{PIN}/10338255", "sensor_defect"),
]
ALERTS = 120


@pytest.fixture(autouse=True)
def _custom(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Load custom_components; allow 127.0.0.1; keep the output to the figures."""
    logging.getLogger().setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """A benchmark leaves HTTP keep-alive timers and import threads: not checked here."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--alerts N``."""
    parser.addoption("--alerts", default=str(ALERTS))


def main(path: str) -> int:
    """Run the benchmark file ``path`` under the harness, passing ``--alerts N`` on."""
    # Import the integration before HA's pytest plugin shadows custom_components.
    import custom_components.somfy_pro  # noqa: F401

    args = sys.argv[1:]
    count = args[args.index("--alerts") + 1] if "--alerts" in args else str(ALERTS)
    plugin: ModuleType = sys.modules[__name__]
    return int(
        pytest.main(
            [
                path,
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
                "-W",
                "ignore::DeprecationWarning",
                "-o",
                "log_level=WARNING",
                f"--alerts={count}",
            ],
            plugins=[plugin],
        )
    )
