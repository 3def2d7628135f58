"""Broadcast domain logic on plain values: validation, schedules, run slots, batch plans.

Nothing here touches Redis or HTTP; functions that need the time take ``now`` (unix seconds).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

# Mass-send months and staff's wall-clock times are Beijing time (WeChat counts the 4 sends per
# natural month in China time).
TZ = ZoneInfo("Asia/Shanghai")

ACTIVE, PAUSED, CANCELLED = "active", "paused", "cancelled"
STATUSES = (ACTIVE, PAUSED, CANCELLED)
MASS, CUSTOM = "mass", "custom"
AUDIENCE_KINDS = ("all", "communities", "stations", "officers", "tag")
MAX_ARTICLES = 8
MAX_TITLE_CHARS = 64
# Customer-service messages may only go to followers who acted in the last 48 h (45015):
# https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage.html
CUSTOM_WINDOW_S = 48 * 3600

# crontab counts weekdays from Sunday = 0 (and 7); APScheduler 3 from Monday = 0
# (agronholm/apscheduler#286), so numbers are translated to names before building the trigger.
_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BroadcastError(ValueError):
    """A broadcast definition or request is invalid; the message names the field."""


@dataclass(frozen=True)
class Broadcast:
    id: str
    title: str
    articles: tuple[str, ...]
    audience: dict[str, Any]
    schedule: dict[str, Any]
    delivery: str = MASS
    status: str = ACTIVE
    rev: int = 1
    created_by: str = ""
    created_ms: int = 0
    updated_ms: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["articles"] = list(self.articles)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Broadcast:
        return cls(**{**data, "articles": tuple(data.get("articles", ()))})

    def edited(self, **changes: Any) -> Broadcast:
        return replace(self, rev=self.rev + 1, **changes)


@dataclass(frozen=True)
class Batch:
    """Openids of one mass-send call and where they sit in the audience stream.

    A cursor is (bucket, offset into the bucket's sorted audience members); ``end`` is exclusive.
    """

    start: tuple[int, int]
    end: tuple[int, int]
    openids: list[str] = field(default_factory=list)


# -- validation ----------------------------------------------------------------------------------


def parse_time(value: Any, key: str) -> datetime:
    """ISO 8601 time; without an offset it is Beijing time."""
    if not isinstance(value, str):
        raise BroadcastError(f"{key}: expected an ISO 8601 time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BroadcastError(f"{key}: not an ISO 8601 time: {value!r}") from None
    return parsed.replace(tzinfo=TZ) if parsed.tzinfo is None else parsed.astimezone(TZ)


def validate_schedule(schedule: Any) -> dict[str, Any]:
    """Normalise ``{"kind": "once", "at"}`` or ``{"kind": "cron", "cron", "start"?, "end"?}``."""
    if not isinstance(schedule, dict):
        raise BroadcastError("schedule: expected an object")
    kind = schedule.get("kind")
    if kind == "once":
        return {"kind": "once", "at": parse_time(schedule.get("at"), "schedule.at").isoformat()}
    if kind != "cron":
        raise BroadcastError("schedule.kind: must be \"once\" or \"cron\"")
    normal: dict[str, Any] = {"kind": "cron", "cron": str(schedule.get("cron") or "").strip()}
    for bound in ("start", "end"):
        if schedule.get(bound):
            normal[bound] = parse_time(schedule[bound], f"schedule.{bound}").isoformat()
    if "start" in normal and "end" in normal and normal["end"] <= normal["start"]:
        raise BroadcastError("schedule.end: must be after schedule.start")
    trigger_for(normal)  # raises on a bad expression
    return normal


def validate_audience(audience: Any) -> dict[str, Any]:
    if not isinstance(audience, dict) or audience.get("kind") not in AUDIENCE_KINDS:
        raise BroadcastError(f"audience.kind: must be one of {', '.join(AUDIENCE_KINDS)}")
    kind = audience["kind"]
    if kind == "all":
        return {"kind": "all"}
    if kind == "tag":
        tag_id = audience.get("tag_id")
        if not isinstance(tag_id, int) or isinstance(tag_id, bool) or tag_id < 0:
            raise BroadcastError("audience.tag_id: expected a WeChat tag id (integer)")
        return {"kind": "tag", "tag_id": tag_id}
    ids = audience.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise BroadcastError(f"audience.ids: expected a non-empty list of {kind} ids")
    return {"kind": kind, "ids": sorted(set(ids))}


def validate_definition(data: dict[str, Any], article_ids: Iterable[str]) -> dict[str, Any]:
    """The editable fields of a broadcast, checked; ``article_ids`` are the library's."""
    title = data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_CHARS:
        raise BroadcastError(f"title: expected 1..{MAX_TITLE_CHARS} characters")
    articles = data.get("articles")
    if (not isinstance(articles, list) or not 1 <= len(articles) <= MAX_ARTICLES
            or not all(isinstance(a, str) for a in articles)):
        raise BroadcastError(f"articles: expected 1..{MAX_ARTICLES} article ids")
    known = set(article_ids)
    unknown = [a for a in articles if a not in known]
    if unknown:
        raise BroadcastError(f"articles: unknown article {unknown[0]!r}")
    delivery = data.get("delivery", MASS)
    if delivery not in (MASS, CUSTOM):
        raise BroadcastError("delivery: must be \"mass\" or \"custom\"")
    return {"title": title.strip(), "articles": tuple(articles),
            "audience": validate_audience(data.get("audience")),
            "schedule": validate_schedule(data.get("schedule")), "delivery": delivery}


# -- schedules -----------------------------------------------------------------------------------


def _crontab_weekdays(field_text: str) -> str:
    return re.sub(r"\d+", lambda m: _WEEKDAY_NAMES[int(m.group()) % 8], field_text)


def trigger_for(schedule: dict[str, Any]) -> DateTrigger | CronTrigger:
    if schedule["kind"] == "once":
        return DateTrigger(run_date=datetime.fromisoformat(schedule["at"]), timezone=TZ)
    parts = schedule["cron"].split()
    if len(parts) != 5:
        raise BroadcastError("schedule.cron: expected 5 fields: minute hour day month weekday")
    minute, hour, day, month, weekday = parts
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=_crontab_weekdays(weekday),
                           start_date=schedule.get("start"), end_date=schedule.get("end"),
                           timezone=TZ)
    except ValueError as exc:
        raise BroadcastError(f"schedule.cron: {exc}") from None


def next_run_times(schedule: dict[str, Any], now: float, count: int = 5) -> list[float]:
    """The next ``count`` fire times after ``now`` (unix seconds)."""
    trigger = trigger_for(schedule)
    current = datetime.fromtimestamp(now, TZ)
    result: list[float] = []
    previous = None
    while len(result) < count:
        fire = trigger.get_next_fire_time(previous, current)
        if fire is None:
            break
        if fire.timestamp() > now:
            result.append(fire.timestamp())
        if schedule["kind"] == "once":
            break
        previous = current = fire
    return result


def run_slot(schedule: dict[str, Any], now: float, grace_s: float) -> float | None:
    """The scheduled time a fire at ``now`` stands for: the latest fire time ≤ now within grace.

    APScheduler does not tell a job which run time it is executing, and the dispatch job id must
    be the same whichever scheduler fires (broadcast id + scheduled time), so it is recomputed
    from the trigger. Coalesced misfires collapse onto the latest slot, as APScheduler does.
    """
    trigger = trigger_for(schedule)
    if schedule["kind"] == "once":
        at = datetime.fromisoformat(schedule["at"]).timestamp()
        return at if at <= now + 1 and now - at <= grace_s else None
    floor = datetime.fromtimestamp(now - grace_s, TZ)
    fire = trigger.get_next_fire_time(None, floor)
    latest = None
    while fire is not None and fire.timestamp() <= now + 1:
        latest = fire.timestamp()
        fire = trigger.get_next_fire_time(fire, fire)
    return latest


def run_id_for(broadcast_id: str, slot_s: float) -> str:
    # Also the prefix of every batch's clientmsgid (≤ 64 bytes in all).
    return f"{broadcast_id}-{int(slot_s)}"


def month_key(now: float) -> str:
    return datetime.fromtimestamp(now, TZ).strftime("%Y%m")


def seconds_to_month_end(now: float) -> int:
    current = datetime.fromtimestamp(now, TZ)
    first_next = (current.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(first_next.timestamp() - now) + 1


# -- content -------------------------------------------------------------------------------------


def compose_text(articles: Iterable[Any], render: Any) -> str:
    """The broadcast's text: each article rendered with the ``broadcast_article`` reply."""
    return "\n\n".join(render("broadcast_article", title=a.title, body=a.body) for a in articles)


# -- batches -------------------------------------------------------------------------------------


def plan_batches(buckets: Iterable[tuple[int, list[str]]], start: tuple[int, int],
                 batch_size: int) -> Iterator[Batch]:
    """Cut the audience stream into mass-send batches of at most ``batch_size`` openids.

    ``buckets`` yields (bucket, sorted member openids) from ``start[0]`` on. Batches end on a
    bucket boundary unless one bucket alone is too big (or the batch so far has one openid), so
    a batch re-read after a crash is the same set of followers. A list needs at least 2 openids
    (40130), so a final single openid takes one from the batch before (or merges with it); the
    batch is held back one step for that. A lone openid is yielded by itself for the caller to
    skip only when nothing else can hold it: an audience of one, or an odd audience cut into
    batches of exactly 2.
    """
    held: Batch | None = None
    current: list[str] = []
    current_start = start
    current_end = start
    for bucket, members in buckets:
        offset = start[1] if bucket == start[0] else 0
        members = members[offset:]
        if not members:
            continue
        # A batch closes on a bucket boundary only once it can go out (40130: two openids or
        # more); a single openid instead fills up from this bucket, split like a big one.
        if len(current) >= 2 and len(current) + len(members) > batch_size:
            if held is not None:
                yield held
            held = Batch(current_start, current_end, current)
            current, current_start = [], (bucket, offset)
        if not current:
            current_start = (bucket, offset)
        index = 0
        while len(members) - index > batch_size - len(current):
            take = batch_size - len(current)
            current = current + members[index:index + take]
            index += take
            if held is not None:
                yield held
            held = Batch(current_start, (bucket, offset + index), current)
            current, current_start = [], (bucket, offset + index)
        current = current + members[index:]
        current_end = (bucket, offset + len(members))
    if len(current) == 1 and held is not None:
        if len(held.openids) >= 3:
            moved_from = (held.end[0], held.end[1] - 1)
            current = [held.openids[-1], *current]
            held = Batch(held.start, moved_from, held.openids[:-1])
            current_start = moved_from
        elif len(held.openids) + 1 <= batch_size:
            current = [*held.openids, *current]
            current_start = held.start
            held = None
    if held is not None:
        yield held
    if current:
        yield Batch(current_start, current_end, current)


def slice_range(buckets: Iterable[tuple[int, list[str]]], start: tuple[int, int],
                end: tuple[int, int]) -> list[str]:
    """The openids between two cursors (``end`` exclusive): a recorded batch, read again."""
    openids: list[str] = []
    for bucket, members in buckets:
        if bucket > end[0]:
            break
        if bucket < start[0]:
            continue
        lo = start[1] if bucket == start[0] else 0
        hi = end[1] if bucket == end[0] else len(members)
        openids.extend(members[lo:hi])
    return openids
