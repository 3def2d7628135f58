"""The simulator's clock: real time plus an offset, so tests can jump past the 48 h window."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CHINA_UTC_OFFSET_S = 8 * 3600


class Clock:
    """Simulated wall clock in seconds; ``advance`` moves it forward, never back."""

    def __init__(self, base: Callable[[], float] = time.time) -> None:
        self._base = base
        self._offset_s = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._base() + self._offset_s

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset_s += seconds
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset_s = 0.0


def china_month(now_s: float) -> str:
    """Calendar month in Beijing time: WeChat's "4 mass messages per natural month" counts by it."""
    return time.strftime("%Y-%m", time.gmtime(now_s + CHINA_UTC_OFFSET_S))
