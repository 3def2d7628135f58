"""Registration statistics as counters, updated as followers change: never a scan.

``reg:{stats}`` holds *gauges* (current subscribed followers, bound numbers, guardians, overall
and per officer / community) and all-time event totals; ``reg:{stats}:day:<yyyymmdd>`` holds
each day's events (registrations, scans, unfollows, binds, guards, erasures). Both share the
``{stats}`` tag, so one MULTI updates them together.

Gauges are kept exact by construction: ``gauges(state)`` says what one follower contributes,
and every change adds ``gauges(after) - gauges(before)``. Station figures are not stored: they
add up the station's communities plus its officers who have no community (a follower attributed
to an officer also carries the officer's community), so they follow the directory as it is.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from store import keys
from store.followers import Follower
from store.redis import RedisClient

# Registration days are Beijing days (UTC+8, no DST), whatever the server's zone.
BEIJING = timezone(timedelta(hours=8))
UNATTRIBUTED = "none"


def day_of(now: float) -> str:
    return datetime.fromtimestamp(now, BEIJING).strftime("%Y%m%d")


def _scoped(name: str, officer: str, community: str) -> list[str]:
    fields = [name]
    if officer:
        fields.append(f"{name}:o:{officer}")
    if community:
        fields.append(f"{name}:c:{community}")
    if not officer and not community:
        fields.append(f"{name}:{UNATTRIBUTED}")
    return fields


def gauges(follower: Follower | None, guarded_count: int) -> Counter[str]:
    """What one follower in this state adds to the gauges (pure)."""
    out: Counter[str] = Counter()
    if follower is None or not follower.subscribed:
        return out
    for name, present in (("followers", True), ("bound", bool(follower.own_phone)),
                          ("guardians", guarded_count > 0)):
        if present:
            for field in _scoped(name, follower.officer, follower.community):
                out[field] += 1
    if guarded_count:
        out["guarded_numbers"] += guarded_count
    return out


def change(before: Follower | None, guarded_before: int, after: Follower | None,
           guarded_after: int) -> dict[str, int]:
    """Gauge deltas of one follower's transition (pure)."""
    delta = gauges(after, guarded_after)
    delta.subtract(gauges(before, guarded_before))
    return {k: v for k, v in delta.items() if v}


def event_fields(event: str, officer: str = "", community: str = "") -> list[str]:
    """Fields of a counted event, e.g. ``registrations`` and ``registrations:o:12``."""
    return _scoped(event, officer, community)


def apply(redis: RedisClient, now: float, gauge_delta: dict[str, int] | None = None,
          events: Iterable[str] = ()) -> None:
    """Add gauge deltas and count events (today and all-time) in one MULTI."""
    events = list(events)
    if not gauge_delta and not events:
        return
    day_key = keys.registration_day(day_of(now))
    pipe = redis.pipeline(transaction=True)
    for field, amount in (gauge_delta or {}).items():
        pipe.hincrby(keys.registration_stats(), field, amount)
    for field in events:
        pipe.hincrby(keys.registration_stats(), f"total:{field}", 1)
        pipe.hincrby(day_key, field, 1)
    pipe.execute()


# -- reading -------------------------------------------------------------------------------------

FIGURES = ("followers", "bound", "guardians", "total:registrations", "total:scans",
           "total:unfollows", "total:binds", "total:guards")
DAY_FIGURES = ("registrations", "scans", "unfollows", "binds", "guards", "erasures")


def _figures(values: dict[str, int], names: Iterable[str], suffix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        out[name.replace("total:", "")] = values.get(f"{name}{suffix}", 0)
    followers = out.get("followers", 0)
    if "bound" in out:
        out["bound_rate"] = round(out["bound"] / followers, 4) if followers else 0.0
    return out


def _station_sum(values: dict[str, int], names: Iterable[str], community_ids: list[str],
                 lone_officer_ids: list[str]) -> dict[str, Any]:
    merged: Counter[str] = Counter()
    for name in names:
        for cid in community_ids:
            merged[name] += values.get(f"{name}:c:{cid}", 0)
        for oid in lone_officer_ids:
            merged[name] += values.get(f"{name}:o:{oid}", 0)
    return _figures(dict(merged), names, "")


def report(redis: RedisClient, stations: list[Any], communities: list[Any], officers: list[Any],
           days: int = 30, now: float | None = None,
           include_totals: bool = True) -> dict[str, Any]:
    """Figures overall, per station / community / officer, and per day (newest last).

    ``stations``/``communities``/``officers`` are the directory records in scope; an officer
    scoped to one station passes only that station's records and ``include_totals=False``.
    """
    now = time.time() if now is None else now
    values = {k: int(v) for k, v in redis.hgetall(keys.registration_stats()).items()}
    lone = {o.station_id: [] for o in officers}  # type: dict[str, list[str]]
    for officer in officers:
        if not officer.community_id:
            lone.setdefault(officer.station_id, []).append(officer.id)
    by_station = {s.id: [c.id for c in communities if c.station_id == s.id] for s in stations}
    result: dict[str, Any] = {
        "stations": [{"id": s.id, "name": s.name,
                      **_station_sum(values, FIGURES, by_station[s.id], lone.get(s.id, []))}
                     for s in stations],
        "communities": [{"id": c.id, "name": c.name, "station_id": c.station_id,
                         **_figures(values, FIGURES, f":c:{c.id}")} for c in communities],
        "officers": [{"id": o.id, "name": o.name, "station_id": o.station_id,
                      "community_id": o.community_id,
                      **_figures(values, FIGURES, f":o:{o.id}")} for o in officers],
    }
    if include_totals:
        result["totals"] = {**_figures(values, FIGURES, ""),
                            "unattributed": _figures(values, FIGURES, f":{UNATTRIBUTED}"),
                            "guarded_numbers": values.get("guarded_numbers", 0)}
    day_list = [day_of(now - 86400 * i) for i in reversed(range(max(1, min(days, 366))))]
    pipe = redis.pipeline(transaction=False)
    for day in day_list:
        pipe.hgetall(keys.registration_day(day))
    per_day = []
    all_station_ids = list(by_station)
    for day, raw in zip(day_list, pipe.execute(), strict=True):
        day_values = {k: int(v) for k, v in raw.items()}
        if include_totals:
            entry = _figures(day_values, DAY_FIGURES, "")
        else:
            communities_in = [cid for sid in all_station_ids for cid in by_station[sid]]
            lone_in = [oid for sid in all_station_ids for oid in lone.get(sid, [])]
            entry = _station_sum(day_values, DAY_FIGURES, communities_in, lone_in)
        per_day.append({"day": f"{day[:4]}-{day[4:6]}-{day[6:]}", **entry})
    result["days"] = per_day
    return result
