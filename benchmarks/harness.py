"""What every benchmark shares: waiting for a server, an open-loop pacer, and percentiles."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

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


def paced(total: int, rate: float, threads: int, send: Callable[[int, float], None]) -> None:
    """Open loop: item i is due at start + i/rate and goes to whichever thread is free, so a
    slow server makes requests late (seen in their latency), never fewer."""
    start = time.time() + 0.3
    counter = iter(range(total))
    lock = threading.Lock()

    def run() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            due = start + i / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            send(i, due)

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
