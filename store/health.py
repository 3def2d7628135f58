"""Process heartbeats, so /healthz can say whether worker and scheduler are alive."""

from __future__ import annotations

import time

from store import keys
from store.redis import RedisClient

HEARTBEAT_TTL_S = 15


def beat(redis: RedisClient, role: str) -> None:
    redis.set(keys.heartbeat(role), str(int(time.time() * 1000)), ex=HEARTBEAT_TTL_S)


def status(redis: RedisClient) -> dict[str, bool]:
    """Liveness of redis and each background role; one MGET (the keys share a hash tag)."""
    try:
        values = redis.mget([keys.heartbeat(role) for role in keys.HEARTBEAT_ROLES])
    except Exception:
        return {"redis": False, **{role: False for role in keys.HEARTBEAT_ROLES}}
    return {"redis": True, **{role: v is not None for role, v in zip(keys.HEARTBEAT_ROLES, values)}}
