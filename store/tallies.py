"""Cluster-wide business tallies the console shows (the alert funnel, warning latency).

Operational metrics are per process (``telemetry.metrics``); the dashboard, though, needs one
deployment-wide total without a Prometheus server. A single hash written by every process on
every event would be a hot key on Redis Cluster (one slot, one master), so the tallies are spread
over ``TALLY_SHARDS`` hashes, each in its own slot: a write goes to one shard picked at random,
a read sums all shards in one pipeline (a handful of HGETALLs, constant in traffic).

Fields keep the Prometheus-like names the console has always used: ``name`` or
``name{label="v"}``. A histogram stores each observation once, in the field of the first bucket
that holds it (``name_bucket{le="0.5"}``); ``snapshot`` turns them back into cumulative ``le``
buckets with ``_count`` and ``_sum``.
"""

from __future__ import annotations

import random
from typing import Any

from store import keys
from store.redis import RedisClient

TALLY_SHARDS = 16
LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def _field(name: str, labels: dict[str, str]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _shard() -> str:
    return keys.tally(random.randrange(TALLY_SHARDS))


def add(client: Any, name: str, amount: int = 1, **labels: str) -> None:
    """Count ``amount`` events; ``client`` may be a pipeline (the command joins it)."""
    client.hincrby(_shard(), _field(name, labels), amount)


def observe(redis: RedisClient, name: str, value_s: float, count: int = 1) -> None:
    """Record one duration: one shard, one round trip, two fields (its bucket and the sum)."""
    pipe = redis.pipeline(transaction=False)
    observe_commands(pipe, name, value_s, count)
    pipe.execute()


def observe_commands(pipe: Any, name: str, value_s: float, count: int = 1) -> None:
    """``observe`` queued on the caller's pipeline; ``count=-1`` takes an observation back
    (shards are summed, so it need not be the shard that got it)."""
    bound = next((str(b) for b in LATENCY_BUCKETS_S if value_s <= b), "+Inf")
    shard = _shard()
    pipe.hincrby(shard, _field(f"{name}_bucket", {"le": bound}), count)
    pipe.hincrbyfloat(shard, f"{name}_sum", value_s * count)


def snapshot(redis: RedisClient) -> dict[str, float]:
    """Every tally summed over the shards; histograms as cumulative buckets plus ``_count``."""
    pipe = redis.pipeline(transaction=False)
    for shard in range(TALLY_SHARDS):
        pipe.hgetall(keys.tally(shard))
    totals: dict[str, float] = {}
    for values in pipe.execute():
        for field, value in values.items():
            totals[field] = totals.get(field, 0.0) + float(value)
    return _cumulate(totals)


def _cumulate(totals: dict[str, float]) -> dict[str, float]:
    """Per-bucket counts → Prometheus cumulative ``le`` buckets and ``_count`` (pure)."""
    result = {k: v for k, v in totals.items() if '_bucket{le="' not in k}
    histograms = {k.split('_bucket{le="', 1)[0] for k in totals if '_bucket{le="' in k}
    for name in histograms:
        running = 0.0
        for bound in [*(str(b) for b in LATENCY_BUCKETS_S), "+Inf"]:
            running += totals.get(f'{name}_bucket{{le="{bound}"}}', 0.0)
            result[f'{name}_bucket{{le="{bound}"}}'] = running
        result[f"{name}_count"] = running
    return result
