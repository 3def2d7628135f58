"""Broadcast definitions and runs in Redis (key layout in store/keys.py).

A definition is one JSON field of the ``bc:{bc}:defs`` hash; every save bumps
``bc:{bc}:revision``, which the active scheduler watches to apply edits to its job store.

A run is one hash ``bcr:{r:<run id>}``: status, the allowance check's figures, the progress
cursor and the batch in flight (written *before* the mass-send call: the write-ahead record a
resumed dispatcher re-sends under the same clientmsgid), plus the MASSSENDJOBFINISH totals. Its
``:batches`` and ``:results`` hashes share the run's hash tag, so each batch is confirmed, and
each finish event counted, atomically with the run's figures.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from broadcasts.model import Broadcast
from store import keys
from store.redis import RedisClient
from store.replication import Replication

RUN_TTL_S = 400 * 24 * 3600

QUEUED, REFUSED, DISPATCHING, DISPATCHED, FAILED, SKIPPED = (
    "queued", "refused", "dispatching", "dispatched", "failed", "skipped")
FINISHED_STATUSES = (REFUSED, DISPATCHED, FAILED, SKIPPED)
TOTALS = ("total_count", "filter_count", "sent_count", "error_count")

# A finish event is counted once per MsgID (WeChat retries the callback; the webhook dedups too).
_RECORD_FINISH = """
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'total_count', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'filter_count', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'sent_count', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'error_count', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'finish_events', 1)
return 1
"""

# msg_id → run index. The finish event can arrive before the dispatcher has recorded the msg_id
# (the callback delay is short), so an event for an unknown msg_id is parked in the same hash
# and the dispatcher, indexing the msg_id, takes it; both sides are one script on one key.
_CLAIM_FINISH = """
local run = redis.call('HGET', KEYS[1], ARGV[1])
if run then return run end
redis.call('HSET', KEYS[1], 'u:' .. ARGV[1], ARGV[2])
return false
"""

# The parked event stays until it has been counted (counting is idempotent per msg_id), so a
# crash in between leaves it for the resumed dispatcher's confirm to count.
_INDEX_MSG = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], 'u:' .. ARGV[1])
"""


def new_broadcast_id() -> str:
    return "b" + secrets.token_hex(5)


# -- definitions ---------------------------------------------------------------------------------


def save(redis: RedisClient, broadcast: Broadcast) -> Broadcast:
    pipe = redis.pipeline(transaction=True)
    pipe.hset(keys.broadcast_definitions(), broadcast.id,
              json.dumps(broadcast.to_json(), ensure_ascii=False))
    pipe.incr(keys.broadcast_revision())
    pipe.execute()
    return broadcast


def get(redis: RedisClient, broadcast_id: str) -> Broadcast | None:
    raw = redis.hget(keys.broadcast_definitions(), broadcast_id)
    return Broadcast.from_json(json.loads(raw)) if raw else None


def all_broadcasts(redis: RedisClient) -> list[Broadcast]:
    rows = redis.hgetall(keys.broadcast_definitions())
    found = [Broadcast.from_json(json.loads(raw)) for raw in rows.values()]
    return sorted(found, key=lambda b: b.created_ms, reverse=True)


def revision(redis: RedisClient) -> int:
    return int(redis.get(keys.broadcast_revision()) or 0)


def applied_revs(redis: RedisClient) -> dict[str, str]:
    return dict(redis.hgetall(keys.broadcast_applied()))


def mark_applied(redis: RedisClient, broadcast_id: str, rev: int) -> None:
    redis.hset(keys.broadcast_applied(), broadcast_id, str(rev))


# -- runs ----------------------------------------------------------------------------------------


def create_run(redis: RedisClient, run_id: str, broadcast_id: str, scheduled_s: float,
               now: float, trigger: str = "schedule") -> bool:
    """Record a run as queued; False when it already exists (a second fire of the same slot)."""
    key = keys.broadcast_run(run_id)
    if not redis.hsetnx(key, "status", QUEUED):
        return False
    redis.hset(key, mapping={"run_id": run_id, "broadcast_id": broadcast_id,
                             "scheduled_ms": int(scheduled_s * 1000),
                             "created_ms": int(now * 1000), "trigger": trigger})
    redis.expire(key, RUN_TTL_S)
    redis.zadd(keys.broadcast_runs(broadcast_id), {run_id: int(scheduled_s * 1000)})
    return True


def get_run(redis: RedisClient, run_id: str) -> dict[str, Any] | None:
    raw = redis.hgetall(keys.broadcast_run(run_id))
    if not raw:
        return None
    run: dict[str, Any] = dict(raw)
    for name in (*TOTALS, "finish_events", "scheduled_ms", "created_ms", "started_ms",
                 "finished_ms", "audience_count", "over_allowance", "batches_sent",
                 "openids_sent", "skipped_count", "next_batch"):
        run[name] = int(run.get(name) or 0)
    for name in ("cursor", "inflight"):
        run[name] = json.loads(run[name]) if run.get(name) else None
    return run


def run_batches(redis: RedisClient, run_id: str) -> list[dict[str, Any]]:
    rows = redis.hgetall(keys.broadcast_run_batches(run_id))
    batches = [{"batch": int(n), **json.loads(raw)} for n, raw in rows.items()]
    return sorted(batches, key=lambda b: b["batch"])


def run_results(redis: RedisClient, run_id: str) -> dict[str, Any]:
    rows = redis.hgetall(keys.broadcast_run_results(run_id))
    return {msg_id: json.loads(raw) for msg_id, raw in rows.items()}


def list_runs(redis: RedisClient, broadcast_id: str, limit: int = 50) -> list[dict[str, Any]]:
    run_ids = redis.zrevrange(keys.broadcast_runs(broadcast_id), 0, limit - 1)
    return [run for run in (get_run(redis, r) for r in run_ids) if run is not None]


def update_run(redis: RedisClient, run_id: str, **fields: Any) -> None:
    values = {k: json.dumps(v) if isinstance(v, (dict, list, tuple)) else v
              for k, v in fields.items()}
    redis.hset(keys.broadcast_run(run_id), mapping=values)


def begin_batch(redis: RedisClient, run_id: str, number: int, start: tuple[int, int],
                end: tuple[int, int], size: int, replication: Replication | None = None) -> None:
    """Write-ahead: the batch about to be sent, so a crash leaves a record of what to re-send.

    With ``replication`` the record is on a replica before the send (``NotReplicated``
    otherwise): a failover must not forget a batch that may be on its way."""
    key = keys.broadcast_run(run_id)
    record = json.dumps({"batch": number, "start": list(start), "end": list(end), "size": size})
    if replication is None:
        redis.hset(key, "inflight", record)
        return
    pipe = replication.pipeline(key)
    pipe.hset(key, "inflight", record)
    replication.execute(pipe)


def confirm_batch(redis: RedisClient, run_id: str, number: int, end: tuple[int, int],
                  msg_id: int, size: int, repeated: bool) -> None:
    """WeChat accepted the batch: record it, move the cursor past it, clear the write-ahead.

    The msg_id is indexed first: a crash between the two steps leaves the batch in flight, so
    the resumed dispatcher re-sends it, gets the same msg_id back (45065) and confirms it. The
    other order would leave a confirmed batch whose finish event is parked forever, and the run
    report would never count it.
    """
    index = keys.broadcast_msg_index(msg_id)
    parked = redis.eval(_INDEX_MSG, 1, index, str(msg_id), run_id)
    if parked:
        _count_finish(redis, run_id, msg_id, json.loads(parked))
        redis.hdel(index, f"u:{msg_id}")
    pipe = redis.pipeline(transaction=True)
    pipe.hset(keys.broadcast_run_batches(run_id), str(number),
              json.dumps({"msg_id": msg_id, "size": size, "end": list(end),
                          "repeated": repeated}))
    pipe.expire(keys.broadcast_run_batches(run_id), RUN_TTL_S)
    pipe.hset(keys.broadcast_run(run_id), mapping={"cursor": json.dumps(list(end)),
                                                   "next_batch": number + 1})
    pipe.hdel(keys.broadcast_run(run_id), "inflight")
    pipe.hincrby(keys.broadcast_run(run_id), "batches_sent", 1)
    pipe.hincrby(keys.broadcast_run(run_id), "openids_sent", size)
    pipe.execute()


def record_finish(redis: RedisClient, msg_id: int, counts: dict[str, int]) -> str | None:
    """Count one MASSSENDJOBFINISH into its run; returns the run id (None: parked or not ours)."""
    run_id = redis.eval(_CLAIM_FINISH, 1, keys.broadcast_msg_index(msg_id), str(msg_id),
                        json.dumps(counts))
    if not run_id:
        return None
    _count_finish(redis, str(run_id), msg_id, counts)
    return str(run_id)


def _count_finish(redis: RedisClient, run_id: str, msg_id: int, counts: dict[str, int]) -> None:
    redis.eval(_RECORD_FINISH, 2, keys.broadcast_run(run_id), keys.broadcast_run_results(run_id),
               str(msg_id), json.dumps(counts), *(int(counts.get(t, 0)) for t in TOTALS))
    redis.expire(keys.broadcast_run_results(run_id), RUN_TTL_S)


def acquire_run_lock(redis: RedisClient, run_id: str, holder: str, ttl_s: int) -> bool:
    key = keys.broadcast_run_lock(run_id)
    if redis.set(key, holder, nx=True, ex=ttl_s):
        return True
    if redis.get(key) == holder:
        redis.expire(key, ttl_s)
        return True
    return False


def release_run_lock(redis: RedisClient, run_id: str, holder: str) -> None:
    key = keys.broadcast_run_lock(run_id)
    if redis.get(key) == holder:
        redis.delete(key)
