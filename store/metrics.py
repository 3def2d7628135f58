"""Counters and latency histograms shared by all processes, kept in Redis.

Web, worker and scheduler are separate processes (often on several machines), so in-process
Prometheus counters would each see a fraction; one Redis hash holds the totals and ``/metrics``
renders them. Names follow Prometheus conventions (``_total``, ``_seconds``). Labels are baked
into the field name, e.g. ``warnings_sent_total{channel="template"}``.
"""

from __future__ import annotations

from typing import Iterable

from store import keys
from store.redis import RedisClient

LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def _field(name: str, labels: dict[str, str] | None) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def incr(redis: RedisClient, name: str, amount: int = 1, **labels: str) -> None:
    redis.hincrby(keys.metrics(), _field(name, labels), amount)


def observe(redis: RedisClient, name: str, value_s: float, **labels: str) -> None:
    """Add one observation to a cumulative histogram (Prometheus ``le`` buckets)."""
    pipe = redis.pipeline(transaction=False)
    for bound in LATENCY_BUCKETS_S:
        if value_s <= bound:
            pipe.hincrby(keys.metrics(), _field(f"{name}_bucket", {**labels, "le": str(bound)}), 1)
    pipe.hincrby(keys.metrics(), _field(f"{name}_bucket", {**labels, "le": "+Inf"}), 1)
    pipe.hincrbyfloat(keys.metrics(), _field(f"{name}_sum", labels), value_s)
    pipe.hincrby(keys.metrics(), _field(f"{name}_count", labels), 1)
    pipe.execute()


def snapshot(redis: RedisClient) -> dict[str, float]:
    return {k: float(v) for k, v in redis.hgetall(keys.metrics()).items()}


def render(values: dict[str, float], gauges: Iterable[tuple[str, float]] = ()) -> str:
    """Prometheus text exposition format."""
    lines = []
    for field, value in sorted(values.items()):
        lines.append(f"endfraud_{field} {value:g}")
    for field, value in gauges:
        lines.append(f"endfraud_{field} {value:g}")
    return "\n".join(lines) + "\n"
