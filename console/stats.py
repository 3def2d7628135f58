"""Dashboard figures, read from counters only: never a scan over followers or alerts.

Every figure comes from the sharded tallies (``store.tallies``, one pipeline), the small
``stats:{daily}:*`` hashes written by an hourly snapshot, and queue depths (XINFO GROUPS):
constant work at 1 M followers. The functions that turn numbers into figures are pure and take
plain dicts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from store import keys, tallies
from store.redis import RedisClient

LABELS: dict[str, Any] = json.loads(
    (Path(__file__).with_name("labels.json")).read_text(encoding="utf-8"))
FUNNEL_METRICS: tuple[str, ...] = tuple(LABELS["funnel"])
DAILY_METRICS: tuple[str, ...] = tuple(LABELS["daily"])
# Histograms of seconds from detection to the warning leaving us, first one present wins.
LATENCY_HISTOGRAMS = ("alerts_warning_latency_seconds",)
# Warnings to officers (escalation notices) are not warnings to citizens: kept out of "sent".
FUNNEL_EXCLUDE = {"alerts_warnings_sent_total": 'role="officer"'}
# The console shows dates in China Standard Time whatever the server's zone.
CST = timezone(timedelta(hours=8))


def total(values: Mapping[str, float], name: str, exclude: str = "") -> float:
    """A counter summed over its label combinations (``name`` and ``name{...}``), leaving out
    fields containing ``exclude``."""
    return sum(v for field, v in values.items()
               if (field == name or field.startswith(name + "{"))
               and not (exclude and exclude in field))


def by_label(values: Mapping[str, float], name: str, label: str) -> dict[str, float]:
    """A counter split by one label, e.g. warnings_sent_total by channel."""
    result: dict[str, float] = {}
    needle = f'{label}="'
    for field, value in values.items():
        if not field.startswith(name + "{") or needle not in field:
            continue
        key = field.split(needle, 1)[1].split('"', 1)[0]
        result[key] = result.get(key, 0.0) + value
    return result


def funnel(values: Mapping[str, float]) -> list[tuple[str, float]]:
    return [(metric, total(values, metric, FUNNEL_EXCLUDE.get(metric, "")))
            for metric in FUNNEL_METRICS]


def answer_rate(values: Mapping[str, float]) -> float | None:
    sent = total(values, "alerts_warnings_sent_total", FUNNEL_EXCLUDE["alerts_warnings_sent_total"])
    return total(values, "alerts_answered_total") / sent if sent else None


def histogram_quantile(values: Mapping[str, float], name: str, q: float) -> float | None:
    """Estimate a quantile from cumulative ``le`` buckets (linear inside a bucket, as Prometheus
    does)."""
    buckets: dict[float, float] = {}
    prefix = f"{name}_bucket{{"
    for field, count in values.items():
        if not field.startswith(prefix) or 'le="' not in field:
            continue
        bound_text = field.split('le="', 1)[1].split('"', 1)[0]
        bound = math.inf if bound_text == "+Inf" else float(bound_text)
        buckets[bound] = buckets.get(bound, 0.0) + count
    if not buckets or not buckets.get(math.inf, max(buckets.values())):
        return None
    ordered = sorted(buckets.items())
    rank = q * ordered[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            fraction = (rank - lower_count) / (count - lower_count)
            return lower_bound + (bound - lower_bound) * fraction
        lower_bound, lower_count = bound, count
    return lower_bound


def median_latency_s(values: Mapping[str, float]) -> float | None:
    for name in LATENCY_HISTOGRAMS:
        median = histogram_quantile(values, name, 0.5)
        if median is not None:
            return median
    return None


def day_labels(now: float, days: int) -> list[str]:
    today = datetime.fromtimestamp(now, CST).date()
    return [(today - timedelta(days=days - 1 - i)).isoformat() for i in range(days)]


def fill_series(stored: Mapping[str, str], labels: Sequence[str]) -> list[float]:
    """Daily values for ``labels``; a day without a snapshot repeats the previous value."""
    result: list[float] = []
    last = 0.0
    for label in labels:
        if label in stored:
            last = float(stored[label])
        result.append(last)
    return result


# -- Redis I/O ------------------------------------------------------------------------------


# Registration keeps its own gauges (registration.stats, ``reg:{stats}``); shown under our names.
REGISTRATION_GAUGES = {"followers": "followers_total", "bound": "phones_bound_total"}


def current_values(redis: RedisClient) -> dict[str, float]:
    """The tallies plus registration's follower gauges: one pipeline and one HMGET, no scan."""
    values = tallies.snapshot(redis)
    gauges = redis.hmget(keys.registration_stats(), list(REGISTRATION_GAUGES))
    for name, value in zip(REGISTRATION_GAUGES.values(), gauges, strict=True):
        values[name] = float(value or 0)
    return values


def record_daily_snapshot(redis: RedisClient, now: float) -> None:
    """Remember today's value of each daily metric (run hourly; the last run of a day wins)."""
    values = current_values(redis)
    today = day_labels(now, 1)[0]
    pipe = redis.pipeline(transaction=False)
    for metric in DAILY_METRICS:
        pipe.hset(keys.daily_stats(metric), today, f"{total(values, metric):g}")
    pipe.execute()


def daily_series(redis: RedisClient, now: float,
                 days: int = 30) -> tuple[list[str], dict[str, list[float]]]:
    labels = day_labels(now, days)
    pipe = redis.pipeline(transaction=False)
    for metric in DAILY_METRICS:
        pipe.hmget(keys.daily_stats(metric), labels)
    series = {}
    for metric, row in zip(DAILY_METRICS, pipe.execute(), strict=True):
        stored = {label: value for label, value in zip(labels, row, strict=True)
                  if value is not None}
        series[metric] = fill_series(stored, labels)
    return labels, series
