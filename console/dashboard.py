"""What the dashboard shows, as plain data (the page renders it, /api/v1/dashboard returns it).

Reads counters only: the tallies, registration's gauges and per-day hashes, the daily
snapshots and queue depths. Directory records (stations, communities, officers: hundreds) are
read whole; followers (a million) never are.
"""

from __future__ import annotations

from typing import Any

from config import Config
from console import stats
from console.auth import station_scope
from console.prometheus import queue_gauges
from registration import directory
from registration import stats as registration_stats
from store.redis import RedisClient

TOP_N = 12


def _allowed(user: dict[str, str], roles: tuple[str, ...]) -> bool:
    return user["role"] == "admin" or user["role"] in roles


def build(redis: RedisClient, config: Config, user: dict[str, str], now: float) -> dict[str, Any]:
    values = stats.current_values(redis)
    scope = station_scope(user)
    data: dict[str, Any] = {"station": scope}
    if _allowed(user, ("duty",)):
        data["funnel"] = [{"stage": metric, "count": count}
                          for metric, count in stats.funnel(values)]
        data["answer_rate"] = stats.answer_rate(values)
        data["median_latency_s"] = stats.median_latency_s(values)
        gauges = dict(queue_gauges(redis, config.queue))
        data["queues"] = [{"queue": name,
                           "depth": gauges[f'queue_depth{{queue="{name}"}}'],
                           "dead_letters": gauges[f'queue_dead_letters{{queue="{name}"}}']}
                          for name in stats.LABELS["queues"]]
    if _allowed(user, ("duty", "propaganda")):
        days, series = stats.daily_series(redis, now)
        for metric in series:  # today's point is live, not the last hourly snapshot
            series[metric][-1] = stats.total(values, metric)
        data["totals"] = {"followers": values["followers_total"],
                          "bound": values["phones_bound_total"]}
        data["history"] = {"days": days, "followers": series["followers_total"],
                           "bound": series["phones_bound_total"]}
    stations = directory.list_stations(redis)
    communities = directory.list_communities(redis, scope)
    officers = directory.list_officers(redis, scope)
    if scope is not None:
        stations = [s for s in stations if s.id == scope]
    report = registration_stats.report(redis, stations, communities, officers, days=30, now=now,
                                       include_totals=scope is None)
    data["areas"] = {kind: sorted(report[kind], key=lambda r: -r["followers"])
                     for kind in ("stations", "communities", "officers")}
    data["registrations_by_day"] = [{"day": d["day"], "registrations": d.get("registrations", 0),
                                     "binds": d.get("binds", 0)} for d in report["days"]]
    if scope is not None:
        own = report["stations"][0] if report["stations"] else {"followers": 0, "bound": 0}
        data["totals"] = {"followers": own["followers"], "bound": own["bound"]}
    return data
