"""What every benchmark shares: waiting for a server, and percentiles."""

from __future__ import annotations

import time

import requests


def wait_http(url: str, timeout_s: float = 30.0) -> None:
    """Block until ``url`` answers anything; servers are started by the benchmark itself."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout_s:.0f} s")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 1]; NaN for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")
