"""API call pacing shared by every worker process: a Redis counter per API per second.

Several workers may dispatch runs at once; an in-process limiter would let each use the whole
rate. A fixed one-second window is coarse (up to 2x at a window edge) but needs one INCR per call.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from store import keys
from store.redis import RedisClient


def wait_for_slot(redis: RedisClient, api: str, per_s: int,
                  clock: Callable[[], float] = time.time,
                  sleep: Callable[[float], None] = time.sleep) -> None:
    """Block until this process may make one more ``api`` call within ``per_s`` per second."""
    while True:
        now = clock()
        second = int(now)
        key = keys.api_rate(api, second)
        pipe = redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 2)
        count, _ = pipe.execute()
        if int(count) <= per_s:
            return
        sleep(max(second + 1 - now, 0.001))
