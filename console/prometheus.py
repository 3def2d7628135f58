"""Gauges read from Redis when Prometheus scrapes ``/metrics``: queue depth and dead letters.

They describe the whole deployment, not one process, so only the web process exports them
(any of its gunicorn workers gives the same answer); query them with ``max by (queue)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis as redis_lib
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from config import QueueConfig
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


class QueueCollector(Collector):
    """``endfraud_queue_depth`` / ``endfraud_queue_dead_letters`` per queue, and
    ``endfraud_redis_up`` (0 when Redis did not answer: the scrape still succeeds)."""

    def __init__(self, redis: RedisClient, config: QueueConfig) -> None:
        self.redis = redis
        self.config = config

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("endfraud_redis_up", "1 when Redis answered this scrape.")
        depth = GaugeMetricFamily("endfraud_queue_depth",
                                  "Jobs waiting or in progress in a durable queue.",
                                  labels=["queue"])
        dead = GaugeMetricFamily("endfraud_queue_dead_letters",
                                 "Entries in a queue's dead-letter stream.", labels=["queue"])
        try:
            for name in ALL_QUEUES:
                queue = DurableQueue(self.redis, name, self.config)
                depth.add_metric([name], float(queue.depth()))
                dead.add_metric([name], float(self.redis.xlen(queue.dead)))
        except redis_lib.RedisError:
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield from (up, depth, dead)
