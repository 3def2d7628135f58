"""Rate limits of the phone-binding dialog: fixed-window counters and throttle markers.

Each limit is one Redis string with a TTL (single-key INCR/EXPIRE or SET NX EX), so limits
work the same on a cluster. Subjects are openids or phone lookup keys (HMAC), never numbers.
"""

from __future__ import annotations

from store import keys
from store.redis import RedisClient


def within_limit(redis: RedisClient, name: str, subject: str, limit: int, window_s: int,
                 now: float) -> bool:
    """Count one use in the current ``window_s`` window; False once ``limit`` is exceeded."""
    window = str(int(now) // window_s)
    key = keys.registration_limit(name, subject, window)
    pipe = redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, window_s + 60)
    count, _ = pipe.execute()
    return int(count) <= limit


def claim(redis: RedisClient, name: str, subject: str, ttl_s: int) -> bool:
    """True for the first caller within ``ttl_s`` (a throttle), False while the marker lives."""
    return bool(redis.set(keys.registration_limit(name, subject), "1", nx=True, ex=ttl_s))


def remaining_s(redis: RedisClient, name: str, subject: str) -> int:
    """Seconds left on a marker set by ``claim`` (0 when none)."""
    return max(int(redis.ttl(keys.registration_limit(name, subject))), 0)


def release(redis: RedisClient, name: str, subject: str) -> None:
    redis.delete(keys.registration_limit(name, subject))
