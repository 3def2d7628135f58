"""Waiting on a condition, the one way tests let time pass.

CI runs the suite on a loaded 2-core box, where anything can take seconds longer than on a
laptop. So a test never sleeps and then counts: it polls for the condition it needs, with a
deadline generous enough that only a real failure reaches it. "Nothing more happens" is shown by
a positive signal that the system has moved past the point (a later marker handled, the queue
drained), never by a quiet interval. Speed is measured in benchmarks/, never asserted here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import redis
from redis.client import Monitor

T = TypeVar("T")

# Long enough for process start-up and Redis round trips on a starved CI runner; a passing test
# returns as soon as its condition holds, so only a failing one waits this long.
DEFAULT_TIMEOUT_S = 60.0


def wait_until(condition: Callable[[], T], timeout_s: float = DEFAULT_TIMEOUT_S,
               what: str = "", interval_s: float = 0.02) -> T:
    """Poll ``condition`` until it returns something truthy, and return that value.

    Raises ``TimeoutError`` naming ``what`` when the deadline passes first.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not met within {timeout_s:g} s: {what or condition!r}")
        time.sleep(interval_s)


def wait_for_clock(at_s: float) -> None:
    """Wait until the wall clock has passed ``at_s`` (for schedules due at a real time)."""
    wait_until(lambda: time.time() > at_s, timeout_s=max(at_s - time.time(), 0) + 60,
               what=f"wall clock past {at_s}")


class CommandWatch:
    """The commands a Redis server runs, read from MONITOR on a connection of their own."""

    def __init__(self, monitor: Monitor) -> None:
        self._monitor = monitor

    def until(self, is_last: Callable[[str], bool], what: str) -> list[str]:
        """Commands seen (``"HGETALL fw:{f:3}"``) up to and including the first ``is_last``."""
        seen: list[str] = []
        try:
            for entry in self._monitor.listen():
                seen.append(entry["command"])
                if is_last(entry["command"]):
                    return seen
        except redis.TimeoutError:
            raise TimeoutError(f"MONITOR never showed {what}; saw {seen[-20:]}") from None
        raise AssertionError("MONITOR ended")


@contextlib.contextmanager
def watch_commands(client: redis.Redis,
                   timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[CommandWatch]:
    """Watch every command ``client``'s server runs from now on. To show that something did
    *not* happen, send a marker command (``ECHO``) after it and read ``until`` the marker:
    MONITOR lists commands in the order the server ran them."""
    kwargs = {**client.connection_pool.connection_kwargs, "socket_timeout": timeout_s}
    watcher = redis.Redis(**kwargs)
    try:
        with watcher.monitor() as monitor:
            yield CommandWatch(monitor)
    finally:
        watcher.close()
