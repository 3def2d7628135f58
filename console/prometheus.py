"""``/metrics``: the shared Redis counters plus live gauges, in Prometheus text format."""

from __future__ import annotations

from config import QueueConfig
from store import metrics
from store.redis import RedisClient
from store.streams import DurableQueue
from worker.queues import ALL_QUEUES


def queue_gauges(redis: RedisClient, config: QueueConfig) -> list[tuple[str, float]]:
    gauges: list[tuple[str, float]] = []
    for name in ALL_QUEUES:
        queue = DurableQueue(redis, name, config)
        gauges.append((f'queue_depth{{queue="{name}"}}', float(queue.depth())))
        gauges.append((f'queue_dead_letters{{queue="{name}"}}', float(redis.xlen(queue.dead))))
    return gauges


def exposition(redis: RedisClient, config: QueueConfig) -> str:
    return metrics.render(metrics.snapshot(redis), queue_gauges(redis, config))
