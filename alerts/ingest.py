"""The web side of ingest: validate a signed batch and queue each new alert durably.

Nothing here calls WeChat. "Accepted" means the alert's job is on the WARNINGS stream
(``DurableQueue.enqueue``, idempotent on ``alert:<alert_id>``) and, where the master has a
replica, on that replica too (``store.replication``: the same round trip ends in ``WAIT``)
before the HTTP answer; the
targeted number is replaced by its HMAC lookup key and an AES-GCM copy before it reaches Redis.
A whole batch goes to Redis in one pipeline (one round trip, with the received tally on a single
Redis), which is what lets one web worker take thousands of alerts a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from alerts.model import validate_alert
from config import Config
from store import tallies
from store.phones import PhoneVault
from store.redis import RedisClient, ride_out_failover
from store.replication import Replication
from store.streams import DurableQueue
from telemetry import metrics
from worker.queues import WARNINGS

ACCEPTED, DUPLICATE, INVALID = "accepted", "duplicate", "invalid"


@dataclass(frozen=True)
class ItemResult:
    index: int
    alert_id: str
    status: str
    errors: tuple[dict[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"index": self.index, "alert_id": self.alert_id,
                                  "status": self.status}
        if self.errors:
            result["errors"] = list(self.errors)
        return result


def job_id(alert_id: str) -> str:
    return f"alert:{alert_id}"


def accept(config: Config, redis: RedisClient, items: list[Any], source: str,
           fraud_types: set[str], now: float | None = None) -> list[ItemResult]:
    """Validate every item; queue the valid ones; one result per item, in order."""
    now = time.time() if now is None else now
    received_ms = int(now * 1000)
    vault = PhoneVault.from_config(config.privacy)
    queue = DurableQueue(redis, WARNINGS, config.queue)
    results: list[ItemResult | None] = []
    to_queue: list[tuple[int, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        alert, errors = validate_alert(raw, fraud_types=fraud_types, source=source, now=now)
        raw_id = raw.get("alert_id") if isinstance(raw, dict) else None
        label = raw_id if isinstance(raw_id, str) else ""
        if alert is None:
            results.append(ItemResult(index, label, INVALID,
                                      tuple(e.as_dict() for e in errors)))
            continue
        if alert.alert_id in seen:
            results.append(ItemResult(index, alert.alert_id, DUPLICATE))
            continue
        seen.add(alert.alert_id)
        payload = {
            "alert_id": alert.alert_id, "phone_key": vault.lookup_key(alert.phone),
            "phone_enc": vault.encrypt(alert.phone), "fraud_type": alert.fraud_type,
            "channel": alert.channel, "counterpart": alert.counterpart,
            "risk_level": alert.risk_level, "detected_ms": alert.detected_ms,
            "received_ms": received_ms, "source": alert.source,
        }
        results.append(None)
        to_queue.append((index, alert.alert_id, payload))
    if to_queue:
        jobs = [(job_id(alert_id), payload) for _, alert_id, payload in to_queue]
        replication = Replication(redis, config.redis.replica_wait_ms)
        # On one Redis the tally rides the enqueue's round trip: it counts every job and the
        # replies then show which were already queued (a platform's retry), taken back in a
        # second trip only then. On a cluster its shard may live on another master than the
        # stream, so it follows on its own.
        ride = not replication.is_cluster

        def enqueue() -> list[bool]:
            pipe = replication.pipeline(queue.stream)
            queue.enqueue_commands(pipe, "alert.received", jobs, now_ms=received_ms)
            if ride:
                tallies.add(pipe, "alerts_received_total", len(jobs))
            replies = replication.execute(pipe)
            return [bool(entry) for entry in replies[:len(jobs)]]

        # Straight to the stream's master (for WAIT), so the cluster client's own waiting does
        # not apply: ride out a failover here, then 503. A repeat after a lost reply counts its
        # jobs again and takes them back as already queued, so each alert is counted once.
        added_flags = ride_out_failover(enqueue)
        for (index, alert_id, _), added in zip(to_queue, added_flags, strict=True):
            results[index] = ItemResult(index, alert_id, ACCEPTED if added else DUPLICATE)
        accepted = sum(added_flags)
        if ride and accepted < len(jobs):
            tallies.add(redis, "alerts_received_total", accepted - len(jobs))
        elif not ride and accepted:
            tallies.add(redis, "alerts_received_total", accepted)
        if accepted:
            metrics.ALERTS_RECEIVED.inc(accepted)
    return [r for r in results if r is not None]
