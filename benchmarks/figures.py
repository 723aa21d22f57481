"""How every benchmark computes and prints its latency figures."""

from __future__ import annotations

import statistics


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def report(name: str, seconds: list[float], width: int = 12) -> None:
    """Print p50/p99, mean and max of ``seconds`` in milliseconds."""
    ms = [v * 1000 for v in seconds]
    print(
        f"{name:<{width}} n={len(ms):>4}  p50={percentile(ms, 50):8.2f} ms  "
        f"p99={percentile(ms, 99):8.2f} ms  mean={statistics.fmean(ms):8.2f} ms  "
        f"max={max(ms):8.2f} ms"
    )
