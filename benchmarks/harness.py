"""What every benchmark shares: waiting for a server, the CPU of a process tree, an open-loop pacer
and percentiles."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and every live descendant (gunicorn's workers), in
    milliseconds, from ``/proc/<pid>/stat``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS
        todo += children.get(current, [])
    return total


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
