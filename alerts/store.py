"""Alerts in Redis: the alert hash, its timeline, indexes, delivery markers, the answer deadline
set, the 96110 call-back queue, urgent cases and the daily count of unregistered numbers.

An alert is one hash ``al:{a:<id>}`` (fields below) plus a timeline list under the same hash tag;
both expire after ``alerts.retention_days``. The targeted number is kept only as its HMAC lookup
key and an AES-GCM copy (``store.phones``).

Delivery markers are hash fields ``r:<openid>`` of the alert, one per recipient, whose value is
``<state>|<unix ms>|<channel>|<msgid>``:

- ``sending``: a worker claimed this recipient and is calling WeChat (or SMS) on ``channel``;
- ``sent`` / ``delivered`` (template: WeChat's TEMPLATESENDJOBFINISH came) / ``undelivered``;
- ``failed``: every channel failed for sure (nothing reached the follower), may be claimed again;
- ``unconfirmed``: a customer-service or SMS send whose outcome is unknown; only a staff
  retry of the dead letter may claim it again.

The claim is one Lua script on the alert hash, so two workers can never both send.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.exceptions import WatchError

from alerts import answer_rules
from store import keys
from store.redis import RedisClient
from store.replication import Replication

DEFAULT_LIST_LIMIT = 100
MSGID_TTL_S = 2 * 24 * 3600
UNCLAIMED_FINISH_TTL_S = 24 * 3600
OPEN_WARNING_TTL_S = 24 * 3600
# A safety net only: answers add at most four entries per person (alerts.answer_rules); this caps
# what anything else could pile up. The newest entries are kept.
MAX_TIMELINE_ENTRIES = 1000
CALLBACK_REASONS = ("paid", "unanswered", "unregistered_high_risk")
# Outcomes of a call-back; the first three close the entry, the others keep it in the queue.
CALLBACK_FINAL = ("reached_safe", "reached_paid", "wrong_number")
CALLBACK_OUTCOMES = (*CALLBACK_FINAL, "no_answer", "call_again")

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(cjson.decode(ARGV[1])))
for _, entry in ipairs(cjson.decode(ARGV[2])) do redis.call('RPUSH', KEYS[2], entry) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone', ''} end
local v = redis.call('HGET', KEYS[1], ARGV[1])
if (not v) or string.sub(v, 1, 7) == 'failed|'
   or (ARGV[5] == '1' and string.sub(v, 1, 12) == 'unconfirmed|') then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return {'claimed', v or ''}
end
if string.sub(v, 1, 8) == 'sending|' then
  local ts = tonumber(string.match(v, '^sending|(%d+)'))
  if tonumber(ARGV[3]) - ts < tonumber(ARGV[4]) then return {'busy', v} end
  return {'stale', v}
end
if string.sub(v, 1, 12) == 'unconfirmed|' then return {'unconfirmed', v} end
return {'done', v}
"""

# The claim above, answering the alert as it was before the claim too: the sender needs it
# for the message anyway, and this saves the round trip of reading it first.
_CLAIM_WITH_STATE = (
    "local function claim()" + _CLAIM + "end\n"
    "local state = redis.call('HGETALL', KEYS[1])\n"
    "local result = claim()\n"
    "return {result[1], result[2], state}\n")

_COMPARE_AND_SET = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"""

# Move a marker on only from the given state prefix (e.g. sent → delivered).
_ADVANCE = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and string.sub(v, 1, string.len(ARGV[2])) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"""

# ``_ADVANCE`` plus the timeline entry that records it (trimmed and kept like ``update``'s).
_ADVANCE_LOGGED = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and string.sub(v, 1, string.len(ARGV[2])) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  redis.call('RPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  return 1
end
return 0
"""

# The first warning that went out: stamp it and, unless an answer beat it, mark the alert warned.
_FIRST_SENT = """
if redis.call('HSETNX', KEYS[1], 'first_sent_ms', ARGV[1]) == 0 then return 0 end
if not redis.call("HGET", KEYS[1], "answer") then
  redis.call("HSET", KEYS[1], "status", "warned")
end
return 1
"""

# KEYS: items hash, every-entry zset, then the open zsets (all, then one per station).
_ADD_CALLBACK = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  for i = 3, #KEYS do redis.call('ZADD', KEYS[i], ARGV[3], ARGV[1]) end
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Marker:
    state: str
    at_ms: int          # last change; for "sending", when the last attempt ended or began
    channel: str = ""
    msgid: str = ""
    claimed_ms: int = 0  # "sending" after an unknown outcome: when the first attempt began

    def pack(self) -> str:
        tail = f"|{self.claimed_ms}" if self.claimed_ms else ""
        return f"{self.state}|{self.at_ms}|{self.channel}|{self.msgid}{tail}"

    @classmethod
    def unpack(cls, value: str) -> Marker:
        state, at_ms, channel, msgid, claimed = (value.split("|") + [""] * 5)[:5]
        return cls(state, int(at_ms or 0), channel, msgid, int(claimed or 0))


@dataclass(frozen=True)
class Claim:
    outcome: str  # claimed | busy | stale | unconfirmed | done | gone
    previous: Marker | None


def recipient_field(openid: str) -> str:
    return f"r:{openid}"


def officer_field(reason: str, openid: str) -> str:
    return f"o:{reason}:{openid}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class AlertStore:
    redis: RedisClient
    retention_s: int

    def __post_init__(self) -> None:
        r = self.redis
        self._create = r.register_script(_CREATE)
        self._claim = r.register_script(_CLAIM)
        self._cas = r.register_script(_COMPARE_AND_SET)
        self._advance = r.register_script(_ADVANCE)
        self._add_callback = r.register_script(_ADD_CALLBACK)

    # -- the alert and its timeline ------------------------------------------------------------

    def create(self, alert_id: str, fields: Mapping[str, str | int],
               timeline: list[dict[str, Any]]) -> bool:
        """Write a new alert with its first timeline entries; False if it already exists."""
        flat: list[str] = []
        for name, value in fields.items():
            flat += [name, str(value)]
        created = self._create(
            keys=[keys.alert(alert_id), keys.alert_timeline(alert_id)],
            args=[json.dumps(flat), json.dumps([_entry(**e) for e in timeline]),
                  self.retention_s])
        return bool(created)

    def get(self, alert_id: str) -> dict[str, str]:
        return dict(self.redis.hgetall(keys.alert(alert_id)))

    def update(self, alert_id: str, fields: dict[str, str] | None = None, *, event: str = "",
               actor: str = "", at_ms: int | None = None, client: Any = None,
               **detail: Any) -> None:
        """Set fields and/or append a timeline entry in one transaction (or, with ``client``,
        as commands queued on the caller's pipeline)."""
        pipe = client if client is not None else self.redis.pipeline(transaction=True)
        if fields:
            pipe.hset(keys.alert(alert_id), mapping={k: str(v) for k, v in fields.items()})
        if event:
            pipe.rpush(keys.alert_timeline(alert_id),
                       _entry(event, actor, at_ms if at_ms is not None else now_ms(), **detail))
            pipe.ltrim(keys.alert_timeline(alert_id), -MAX_TIMELINE_ENTRIES, -1)
            pipe.expire(keys.alert_timeline(alert_id), self.retention_s)
        if client is None:
            pipe.execute()

    def set_once(self, alert_id: str, field: str, value: str) -> bool:
        return bool(self.redis.hsetnx(keys.alert(alert_id), field, value))

    def timeline(self, alert_id: str) -> list[dict[str, Any]]:
        entries = [json.loads(e) for e in self.redis.lrange(keys.alert_timeline(alert_id), 0, -1)]
        return sorted(entries, key=lambda e: e["at_ms"])

    def index(self, alert_id: str, received_ms: int, day: str, stations: list[str],
              client: Any = None) -> None:
        """List the alert under its day, overall and per station (with ``client``, as
        commands queued on the caller's pipeline)."""
        pipe = client if client is not None else self.redis.pipeline(transaction=False)
        for station in ["", *stations]:
            key = keys.alert_day_index(day, station)
            pipe.zadd(key, {alert_id: received_ms})
            pipe.expire(key, self.retention_s + 86400)
        if client is None:
            pipe.execute()

    def list_day(self, day: str, station: str = "", limit: int = DEFAULT_LIST_LIMIT,
                 before_ms: int | None = None) -> list[str]:
        high = f"({before_ms}" if before_ms else "+inf"
        return list(self.redis.zrevrangebyscore(keys.alert_day_index(day, station), high, "-inf",
                                                start=0, num=limit))

    # -- delivery markers ----------------------------------------------------------------------

    def claim(self, alert_id: str, field: str, at_ms: int, channel: str, grace_ms: int,
              staff_retry: bool = False, replication: Replication | None = None) -> Claim:
        """Claim the right to send; an ``unconfirmed`` marker only yields to a staff retry.

        With ``replication`` the claim is on a replica before this returns (or
        ``NotReplicated`` is raised): a claim lost in a failover would let a second send through.
        """
        args = [field, Marker("sending", at_ms, channel).pack(), at_ms, grace_ms,
                "1" if staff_retry else "0"]
        if replication is None:
            outcome, previous = self._claim(keys=[keys.alert(alert_id)], args=args)
        else:
            pipe = replication.pipeline(keys.alert(alert_id))
            pipe.execute_command("EVAL", _CLAIM, 1, keys.alert(alert_id), *args)
            ((outcome, previous),) = replication.execute(pipe)
        return Claim(outcome, Marker.unpack(previous) if previous else None)

    def marker(self, alert_id: str, field: str) -> Marker | None:
        value = self.redis.hget(keys.alert(alert_id), field)
        return Marker.unpack(value) if value else None

    def take_over(self, alert_id: str, field: str, old: Marker, new: Marker) -> bool:
        return bool(self._cas(keys=[keys.alert(alert_id)], args=[field, old.pack(), new.pack()]))

    def set_marker(self, alert_id: str, field: str, marker: Marker) -> None:
        self.redis.hset(keys.alert(alert_id), field, marker.pack())

    def advance(self, alert_id: str, field: str, from_state: str, marker: Marker,
                client: Any = None) -> bool:
        if client is not None:
            # Queued on a pipeline: EVAL, since a pipeline cannot recover from NOSCRIPT.
            client.execute_command("EVAL", _ADVANCE, 1, keys.alert(alert_id), field,
                                   from_state + "|", marker.pack())
            return True
        return bool(self._advance(keys=[keys.alert(alert_id)],
                                  args=[field, from_state + "|", marker.pack()]))

    def first_sent_commands(self, alert_id: str, at_ms: int, pipe: Any) -> None:
        """Queue the first-warning stamp on a pipeline; its reply is 1 for the first send."""
        pipe.execute_command("EVAL", _FIRST_SENT, 1, keys.alert(alert_id), str(at_ms))

    def markers(self, alert_id: str) -> dict[str, Marker]:
        return {name: Marker.unpack(value) for name, value in self.get(alert_id).items()
                if name.startswith(("r:", "o:"))}

    # -- template msgids and job-finish events -------------------------------------------------

    def map_msgid(self, msgid: str, alert_id: str, field: str, client: Any = None) -> None:
        (client or self.redis).set(keys.alert_msgid(msgid), f"{alert_id} {field}",
                                   ex=MSGID_TTL_S)

    def msgid_target(self, msgid: str) -> tuple[str, str] | None:
        value = self.redis.get(keys.alert_msgid(msgid))
        if not value:
            return None
        alert_id, _, field = value.partition(" ")
        return alert_id, field

    def park_finish(self, openid: str, msgid: str, status: str, at_ms: int,
                    replication: Replication | None = None) -> None:
        """A job-finish event nobody could match yet (the sender had not recorded its msgid).

        With ``replication`` it is on a replica before this returns (``NotReplicated``
        otherwise): a sender that died before recording its send has only this receipt to
        tell it the warning arrived, so a failover must not forget it.
        """
        key = keys.alert_unclaimed_finishes(openid)
        pipe = (replication.pipeline(key) if replication is not None
                else self.redis.pipeline(transaction=False))
        pipe.hset(key, msgid, f"{at_ms}|{status}")
        pipe.expire(key, UNCLAIMED_FINISH_TTL_S)
        if replication is not None:
            replication.execute(pipe)
        else:
            pipe.execute()

    def claim_finish(self, openid: str, msgid: str) -> str | None:
        """Take a parked job-finish event (its status), or None; only one caller gets it."""
        key = keys.alert_unclaimed_finishes(openid)
        value: str | None = self.redis.hget(key, msgid)
        if value is None or not self.redis.hdel(key, msgid):
            return None
        return value.partition("|")[2]

    def claim_finish_commands(self, openid: str, msgid: str, pipe: Any) -> None:
        """``claim_finish`` queued on a pipeline: replies are (value, removed count)."""
        key = keys.alert_unclaimed_finishes(openid)
        pipe.hget(key, msgid)
        pipe.hdel(key, msgid)

    def parked_finishes(self, openid: str) -> dict[str, int]:
        raw = self.redis.hgetall(keys.alert_unclaimed_finishes(openid))
        return {msgid: int(value.partition("|")[0]) for msgid, value in raw.items()}

    # -- answers ------------------------------------------------------------------------------

    def open_warning(self, openid: str, alert_id: str, client: Any = None) -> None:
        (client or self.redis).set(keys.alert_open_warning(openid), alert_id,
                                   ex=OPEN_WARNING_TTL_S)

    def current_warning(self, openid: str) -> str | None:
        value = self.redis.get(keys.alert_open_warning(openid))
        return str(value) if value else None

    # -- escalation ---------------------------------------------------------------------------

    def schedule_deadline(self, alert_id: str, deadline_ms: int, client: Any = None) -> None:
        (client or self.redis).zadd(keys.alert_deadlines(), {alert_id: deadline_ms}, nx=True)

    def clear_deadline(self, alert_id: str) -> None:
        self.redis.zrem(keys.alert_deadlines(), alert_id)

    def due(self, at_ms: int, limit: int = 500) -> list[str]:
        return list(self.redis.zrangebyscore(keys.alert_deadlines(), "-inf", at_ms, start=0,
                                             num=limit))

    def escalate_once(self, alert_id: str, at_ms: int) -> bool:
        """Mark the alert escalated if ``answer_rules.needs_escalation`` says so, atomically with
        any answer arriving at the same moment (WATCH on the alert hash); True if this call did."""
        alert_key = keys.alert(alert_id)
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(alert_key)
                    state = pipe.hgetall(alert_key)
                    if not state or not answer_rules.needs_escalation(answer_rules.parse(state)):
                        pipe.unwatch()
                        return False
                    pipe.multi()
                    pipe.hset(alert_key, mapping={"escalated_ms": str(at_ms),
                                                  "status": "escalated"})
                    pipe.execute()
                    return True
                except WatchError:
                    continue  # an answer came in meanwhile: decide again

    # -- answers (rules in alerts.answer_rules) ------------------------------------------------

    def apply_answer(self, alert_id: str, openid: str, answer: str, *, via: str, at_ms: int,
                     actor: str, case_fields: dict[str, str],
                     ) -> tuple[answer_rules.Decision, dict[str, str]] | None:
        """Decide and record one person's answer in one transaction on the alert's hash tag:
        two people answering at once are both recorded (the loser of the WATCH decides again on
        the winner's state). Returns the decision and the alert as it was before, or None when
        the alert is gone. ``case_fields`` are written when this answer opens the urgent case."""
        alert_key, timeline_key = keys.alert(alert_id), keys.alert_timeline(alert_id)
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(alert_key)
                    state = pipe.hgetall(alert_key)
                    if not state:
                        pipe.unwatch()
                        return None
                    current = answer_rules.parse(state)
                    decision = answer_rules.decide(current, openid, answer)
                    if not decision.event:
                        pipe.unwatch()
                        return decision, state
                    fields: dict[str, str] = {}
                    if decision.late:
                        fields[answer_rules.late_field(openid)] = decision.record
                    else:
                        fields[answer_rules.answer_field(openid)] = f"{answer}|{at_ms}|{via}"
                    if decision.headline and decision.headline != state.get("answer"):
                        fields.update(answer=decision.headline, answered_ms=str(at_ms),
                                      answered_by=actor.partition(":")[2])
                    if decision.status:
                        fields["status"] = decision.status
                    if decision.open_case:
                        fields.update(case_fields, case_opened_ms=str(at_ms))
                    entries = [_entry(decision.event, actor, at_ms, answer=answer, via=via,
                                      role=current.roles.get(openid, ""))]
                    if decision.open_case:
                        entries.append(_entry("case_opened", actor, at_ms))
                    pipe.multi()
                    pipe.hset(alert_key, mapping=fields)
                    pipe.rpush(timeline_key, *entries)
                    pipe.ltrim(timeline_key, -MAX_TIMELINE_ENTRIES, -1)
                    pipe.expire(timeline_key, self.retention_s)
                    pipe.execute()
                    return decision, state
                except WatchError:
                    continue

    # -- urgent cases -------------------------------------------------------------------------

    def add_urgent_case(self, alert_id: str, at_ms: int, stations: list[str]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for station in ["", *stations]:
            pipe.zadd(keys.alert_urgent_cases(station), {alert_id: at_ms}, nx=True)
        if stations:
            pipe.sadd(keys.alert_urgent_stations(), *stations)
        pipe.execute()

    def urgent_cases(self, station: str = "", limit: int = DEFAULT_LIST_LIMIT,
                     cursor: str = "") -> tuple[list[str], str]:
        """Open urgent cases, newest first, of one station ("" = all); and the next cursor."""
        return self._page_newest(keys.alert_urgent_cases(station), limit, cursor)

    def remove_urgent_case(self, alert_id: str, stations: list[str]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for station in ["", *stations]:
            pipe.zrem(keys.alert_urgent_cases(station), alert_id)
        pipe.execute()

    # -- the 96110 call-back queue -------------------------------------------------------------

    def add_callback(self, entry: dict[str, Any]) -> bool:
        """Queue a call-back once per id (``<alert id>:<reason>``); False if already queued."""
        open_keys = [keys.alert_callbacks_open(s) for s in ["", *entry.get("stations", [])]]
        return bool(self._add_callback(
            keys=[keys.alert_callback_items(), keys.alert_callbacks_all(), *open_keys],
            args=[entry["id"], json.dumps(entry, ensure_ascii=False), entry["created_ms"]]))

    def callback(self, entry_id: str) -> dict[str, Any] | None:
        raw = self.redis.hget(keys.alert_callback_items(), entry_id)
        return json.loads(raw) if raw else None

    def open_callbacks(self, station: str = "", limit: int = DEFAULT_LIST_LIMIT,
                       cursor: str = "") -> tuple[list[dict[str, Any]], str]:
        """Open call-backs, newest first, of one station ("" = all); and the next cursor."""
        ids, next_cursor = self._page_newest(keys.alert_callbacks_open(station), limit, cursor)
        if not ids:
            return [], ""
        rows = self.redis.hmget(keys.alert_callback_items(), ids)
        return [json.loads(r) for r in rows if r], next_cursor

    def _page_newest(self, key: str, limit: int, cursor: str) -> tuple[list[str], str]:
        """One page of a zset, highest score first. The cursor ``<score>:<member>`` names the
        last item shown; members sharing its score (same millisecond) come in Redis' order
        (descending bytes), so none is skipped or repeated. ValueError for a bad cursor."""
        rows: list[tuple[str, float]] = []
        if cursor:
            score_text, _, member = cursor.partition(":")
            score = int(score_text)
            if not member:
                raise ValueError("cursor must be <score>:<id>")
            ties = self.redis.zrevrangebyscore(key, score, score, withscores=True)
            rows = [(m, s) for m, s in ties if m < member][:limit]
            if len(rows) < limit:
                rows += self.redis.zrevrangebyscore(key, f"({score}", "-inf", start=0,
                                                    num=limit - len(rows), withscores=True)
        else:
            rows = self.redis.zrevrange(key, 0, limit - 1, withscores=True)
        ids = [m for m, _ in rows]
        next_cursor = f"{int(rows[-1][1])}:{rows[-1][0]}" if len(rows) == limit else ""
        return ids, next_cursor

    def record_callback_outcome(self, entry_id: str, outcome: str, staff: str, note: str,
                                at_ms: int) -> dict[str, Any] | None:
        """Add a call attempt; a final outcome takes the entry out of the open queue."""
        items = keys.alert_callback_items()
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(items)
                    raw = pipe.hget(items, entry_id)
                    if not raw:
                        pipe.unwatch()
                        return None
                    entry = json.loads(raw)
                    stations = entry.get("stations", [])
                    entry.setdefault("attempts", []).append(
                        {"at_ms": at_ms, "staff": staff, "outcome": outcome, "note": note[:500]})
                    if outcome in CALLBACK_FINAL:
                        entry["status"] = "done"
                        entry["closed_ms"] = at_ms
                    pipe.multi()
                    pipe.hset(items, entry_id, json.dumps(entry, ensure_ascii=False))
                    if outcome in CALLBACK_FINAL:
                        for station in ["", *stations]:
                            pipe.zrem(keys.alert_callbacks_open(station), entry_id)
                    pipe.execute()
                    return dict(entry)
                except WatchError:
                    continue  # someone else recorded an attempt meanwhile: read again

    # -- retention -----------------------------------------------------------------------------

    def prune(self, cutoff_ms: int, batch: int = 500) -> int:
        """Forget call-back entries and urgent-case list items created before ``cutoff_ms``
        (the alerts themselves expire by TTL); returns how many call-back entries went."""
        removed = 0
        all_key, items = keys.alert_callbacks_all(), keys.alert_callback_items()
        while True:
            ids = self.redis.zrangebyscore(all_key, "-inf", cutoff_ms, start=0, num=batch)
            if not ids:
                break
            stations = {s for raw in self.redis.hmget(items, ids) if raw
                        for s in json.loads(raw).get("stations", [])}
            pipe = self.redis.pipeline(transaction=True)
            for station in ["", *sorted(stations)]:
                pipe.zrem(keys.alert_callbacks_open(station), *ids)
            pipe.hdel(items, *ids)
            pipe.zrem(all_key, *ids)
            pipe.execute()
            removed += len(ids)
        urgent_stations = sorted(self.redis.smembers(keys.alert_urgent_stations()))
        pipe = self.redis.pipeline(transaction=True)
        for station in ["", *urgent_stations]:
            pipe.zremrangebyscore(keys.alert_urgent_cases(station), "-inf", cutoff_ms)
        pipe.execute()
        return removed

    # -- numbers nobody registered -------------------------------------------------------------

    def count_unregistered(self, day: str, phone_key: str, client: Any = None) -> None:
        """Count an alert for a number nobody registered (with ``client``, as commands queued
        on the caller's pipeline)."""
        pipe = client if client is not None else self.redis.pipeline(transaction=True)
        pipe.hincrby(keys.alert_unregistered_counts(), day, 1)
        pipe.pfadd(keys.alert_unregistered_numbers(day), phone_key)
        pipe.expire(keys.alert_unregistered_numbers(day), self.retention_s)
        if client is None:
            pipe.execute()

    def unregistered_counts(self, days: list[str]) -> list[dict[str, Any]]:
        counts = self.redis.hmget(keys.alert_unregistered_counts(), days) if days else []
        # One PFCOUNT per day: redis-py refuses PFCOUNT in a cluster pipeline.
        distinct = [self.redis.pfcount(keys.alert_unregistered_numbers(day)) for day in days]
        return [{"day": day, "alerts": int(c or 0), "numbers": int(n or 0)}
                for day, c, n in zip(days, counts, distinct, strict=True)]

    # -- the warning hot path: the same operations, queued on the caller's pipeline ------------

    def create_commands(self, alert_id: str, fields: Mapping[str, str | int],
                        timeline: list[dict[str, Any]], pipe: Any) -> None:
        """``create`` queued on a pipeline; its reply is 1 if this call created the alert.
        EVAL rather than EVALSHA: a pipeline cannot recover from NOSCRIPT halfway."""
        flat: list[str] = []
        for name, value in fields.items():
            flat += [name, str(value)]
        pipe.execute_command("EVAL", _CREATE, 2, keys.alert(alert_id),
                             keys.alert_timeline(alert_id), json.dumps(flat),
                             json.dumps([_entry(**e) for e in timeline]), self.retention_s)

    def set_once_commands(self, alert_id: str, field: str, value: str, pipe: Any) -> None:
        """``set_once`` queued on a pipeline; its reply is 1 for the first caller."""
        pipe.hsetnx(keys.alert(alert_id), field, value)

    def claim_with_state(self, alert_id: str, field: str, at_ms: int, channel: str,
                         grace_ms: int, staff_retry: bool = False,
                         replication: Replication | None = None,
                         ) -> tuple[Claim, dict[str, str]]:
        """``claim``, and the alert as it was just before (``{}`` when it is gone), in the same
        round trip and atomically with the claim."""
        args = [field, Marker("sending", at_ms, channel).pack(), at_ms, grace_ms,
                "1" if staff_retry else "0"]
        key = keys.alert(alert_id)
        pipe = (replication.pipeline(key) if replication is not None
                else self.redis.pipeline(transaction=False))
        pipe.execute_command("EVAL", _CLAIM_WITH_STATE, 1, key, *args)
        ((outcome, previous, flat),) = (replication.execute(pipe) if replication is not None
                                        else pipe.execute())
        state = dict(zip(flat[::2], flat[1::2], strict=True))
        return Claim(outcome, Marker.unpack(previous) if previous else None), state

    # -- delivery receipts ---------------------------------------------------------------------

    def advance_logged_commands(self, alert_id: str, field: str, from_state: str,
                                marker: Marker, pipe: Any, *, event: str, actor: str,
                                at_ms: int, **detail: Any) -> None:
        """``advance`` and, when it moved the marker, ``update``'s timeline entry, as one script
        queued on the caller's pipeline (its reply: 1 if it moved the marker). The hash and its
        timeline share the alert's hash tag, so this is cluster-safe. EVAL rather than
        EVALSHA: a pipeline cannot recover from NOSCRIPT halfway."""
        pipe.execute_command("EVAL", _ADVANCE_LOGGED, 2, keys.alert(alert_id),
                             keys.alert_timeline(alert_id), field, from_state + "|",
                             marker.pack(), _entry(event, actor, at_ms, **detail),
                             MAX_TIMELINE_ENTRIES, self.retention_s)

    @staticmethod
    def msgid_key(msgid: str) -> str:
        """Where ``map_msgid`` keeps a template msgid's alert (for a caller reading it early)."""
        return keys.alert_msgid(msgid)

    @staticmethod
    def parse_msgid_target(value: str | None) -> tuple[str, str] | None:
        """``msgid_target`` from the value read at ``msgid_key``."""
        if not value:
            return None
        alert_id, _, field = value.partition(" ")
        return alert_id, field


def _entry(event: str, actor: str, at_ms: int, **detail: Any) -> str:
    return json.dumps({"at_ms": int(at_ms), "event": event, "actor": actor, "detail": detail},
                      ensure_ascii=False, separators=(",", ":"))
