"""What the benchmarks run inside Home Assistant's test harness share: box, figures, runner."""

from __future__ import annotations

import logging
import statistics
import sys
from types import ModuleType

import pytest

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


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def report(name: str, latencies: list[float]) -> None:
    """Print p50/p99 and friends in milliseconds."""
    ms = [v * 1000 for v in latencies]
    print(
        f"{name:<12} n={len(ms):>4}  p50={percentile(ms, 50):8.1f} ms  "
        f"p99={percentile(ms, 99):8.1f} ms  mean={statistics.fmean(ms):8.1f} ms  "
        f"max={max(ms):8.1f} ms"
    )


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
