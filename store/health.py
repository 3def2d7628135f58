"""Process heartbeats and consumer health, so /healthz can say whether the service works.

A worker process beats ``health:{hb}:worker`` and also reports each of its consumer threads in
``health:{hb}:consumers`` (field ``<worker>/<queue>``, value ``<report ms>:<1 healthy|0 not>``).
The worker decides health itself, on its own clock: a consumer is healthy while its thread lives
and its loop completed a round within ``queue.consumer_stuck_s``. Reports older than
``HEARTBEAT_TTL_S`` belong to a worker that is gone (its ``worker`` beat lapses too) and are
ignored, then pruned by the next live worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from store import keys
from store.redis import RedisClient

HEARTBEAT_TTL_S = 15


def beat(redis: RedisClient, role: str) -> None:
    redis.set(keys.heartbeat(role), str(int(time.time() * 1000)), ex=HEARTBEAT_TTL_S)


def report_consumers(redis: RedisClient, reports: Iterable[tuple[str, bool]],
                     now_ms: int) -> None:
    """Write this worker's consumer reports; drop reports of workers gone for good."""
    key = keys.consumer_health()
    stale = [name for name, value in redis.hgetall(key).items()
             if _reported_ms(value) < now_ms - HEARTBEAT_TTL_S * 1000]
    pipe = redis.pipeline(transaction=False)
    if stale:
        pipe.hdel(key, *stale)
    mapping = {name: f"{now_ms}:{1 if healthy else 0}" for name, healthy in reports}
    if mapping:
        pipe.hset(key, mapping=mapping)
    pipe.execute()


def forget_consumers(redis: RedisClient, names: Iterable[str]) -> None:
    """A worker shutting down cleanly takes its reports with it."""
    names = list(names)
    if names:
        redis.hdel(keys.consumer_health(), *names)


def consumer_states(reports: dict[str, str], now_ms: int) -> dict[str, bool]:
    """Consumer name → healthy, for the reports of live workers (pure)."""
    states = {}
    for name, value in reports.items():
        if _reported_ms(value) >= now_ms - HEARTBEAT_TTL_S * 1000:
            states[name] = value.endswith(":1")
    return states


def _reported_ms(value: str) -> int:
    head = value.partition(":")[0]
    return int(head) if head.isascii() and head.isdigit() else 0


def status(redis: RedisClient, now_ms: int | None = None) -> dict[str, bool]:
    """Liveness of redis, each background role (one MGET: the keys share a hash tag) and all
    consumers. ``consumers`` is False when any live worker has a dead or stuck one."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    roles = keys.HEARTBEAT_ROLES
    try:
        # Two calls, not a pipeline: redis-py's cluster pipeline refuses MGET.
        values = redis.mget([keys.heartbeat(role) for role in roles])
        reports = redis.hgetall(keys.consumer_health())
    except Exception:  # noqa: BLE001 - any failure to read it (cluster errors too) is "down"
        return {"redis": False, **dict.fromkeys(roles, False), "consumers": False}
    return {"redis": True, **{role: v is not None for role, v in zip(roles, values, strict=True)},
            "consumers": all(consumer_states(reports, now_ms).values())}


def consumer_report(redis: RedisClient, now_ms: int | None = None) -> dict[str, bool]:
    """Each live consumer's health, for /healthz to name the one that is down."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    try:
        return consumer_states(redis.hgetall(keys.consumer_health()), now_ms)
    except Exception:  # noqa: BLE001 - any failure to read it (cluster errors too) is "down"
        return {}
