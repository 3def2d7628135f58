"""The Redis key schema: the only place a key string is formed.

Redis Cluster readiness: every group of keys touched by one multi-key operation (MULTI/EXEC,
Lua script, MGET, XREADGROUP over several streams) shares one hash tag ``{...}`` so the keys live
in one slot. ``tests/test_cluster.py`` runs each such operation on a real 3-master cluster.

| key | type | TTL | written by |
|---|---|---|---|
| ``wx:{dedup}:<sha1 of msg key>`` (sharded ``{dedup:NN}``) | string: "pending" or cached reply | wechat.dedup_ttl_s | webhook: one handling per MsgId / FromUser+CreateTime+Event |
| ``wx:{token}:<appid>`` | string: access token | expires_in from WeChat | bot.wechat token keeper (wechatpy session) |
| ``wx:{token}:<appid>:lock`` | string: holder id | 30 s | token refresh lock (one refresher at a time) |
| ``q:{<queue>}:stream`` | stream of jobs | none (trimmed ~MAXLEN) | store.streams.DurableQueue |
| ``q:{<queue>}:id:<job_id>`` | string marker | 7 days | idempotent enqueue (Lua with the stream: same tag) |
| ``q:{<queue>}:dead`` | stream of dead letters | none | jobs past queue.max_deliveries or permanently failed |
| ``health:{hb}:<role>`` | string: unix ms | 15 s | heartbeat of worker / scheduler (read with one MGET) |
| ``sched:{leader}`` | string: holder id | lease 15 s | the one active scheduler process |
| ``sched:{jobs}:jobs`` / ``sched:{jobs}:run_times`` | hash / zset | none | APScheduler RedisJobStore (both in one pipeline) |
| ``dlg:{<openid>}`` | hash: dialog state | dialog timeout | multi-step chat dialogs |
| ``fw:{f:<b>}`` | hash: openid → "subscribed|since|officer|community|own phone key" | none | follower records, bucket b = crc32(openid) % FOLLOWER_BUCKETS |
| ``fe:{f:<b>}`` | hash: openid → AES-GCM copy of own phone | none | masked display only |
| ``fg:{f:<b>}`` | hash: openid → JSON {phone key: encrypted copy} | none | relatives' numbers the follower guards |
| ``fa:{f:<b>}`` | hash: openid → unix s of last action | none | the 48 h customer-service window |
| ``ph:{p:<b>}`` | hash: phone key → owner openid | none | warning routing, b = crc32(phone key) % PHONE_BUCKETS |
| ``pg:{p:<b>}`` | hash: phone key → "openid,openid" | none | guardians of a number (Lua list edit) |
| ``{content}:current`` | hash: ``<kind>:<id>`` → JSON of latest version | none | staff content edits (content.store) |
| ``{content}:history:<kind>:<id>`` | list of JSON versions, oldest first | none | content edit history (same transaction) |
| ``{content}:revision`` | string counter | none | bumped on every content save |
| ``metrics:{m}`` | hash: metric field → number | none | store.metrics counters and histograms |
| ``audit:{a}`` | stream: actor, action, target, detail | none (MAXLEN ~1 M) | console.audit: every staff action |
| ``staff:{staff}:user:<username>`` | hash: password_hash (argon2), role, station, created_ms | none | console accounts |
| ``staff:{staff}:users`` | set of usernames | none | console accounts (written with the user hash in one MULTI) |

Later features add their keys here, each documented in this table.
"""

from __future__ import annotations

import hashlib
import zlib

DEDUP_SHARDS = 64


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def webhook_dedup(message_key: str) -> str:
    # Single-key operations only; the shard tag spreads the keys over the cluster.
    digest = _digest(message_key)
    return f"wx:{{dedup:{int(digest[:4], 16) % DEDUP_SHARDS}}}:{digest}"


def access_token(app_id: str) -> str:
    return f"wx:{{token}}:{app_id}"


def access_token_lock(app_id: str) -> str:
    return f"wx:{{token}}:{app_id}:lock"


def queue_stream(queue: str) -> str:
    return f"q:{{{queue}}}:stream"


def queue_job_marker(queue: str, job_id: str) -> str:
    return f"q:{{{queue}}}:id:{job_id}"


def queue_dead_letters(queue: str) -> str:
    return f"q:{{{queue}}}:dead"


HEARTBEAT_ROLES = ("worker", "scheduler")


def heartbeat(role: str) -> str:
    return f"health:{{hb}}:{role}"


def scheduler_leader() -> str:
    return "sched:{leader}"


def scheduler_jobs() -> str:
    return "sched:{jobs}:jobs"


def scheduler_run_times() -> str:
    return "sched:{jobs}:run_times"


def dialog(openid: str) -> str:
    return f"dlg:{{{openid}}}"


def staff_user(username: str) -> str:
    return f"staff:{{staff}}:user:{username}"


def staff_users() -> str:
    return "staff:{staff}:users"


def metrics() -> str:
    return "metrics:{m}"


def audit_log() -> str:
    return "audit:{a}"


# -- followers (store.followers) ----------------------------------------------------------------
# 8192 buckets keep ~120 followers per bucket at 1 M followers: well inside listpack limits.
FOLLOWER_BUCKETS = 8192
PHONE_BUCKETS = 8192


def _bucket(text: str, buckets: int) -> int:
    return zlib.crc32(text.encode("utf-8")) % buckets


def follower_records_bucket(bucket: int) -> str:
    return f"fw:{{f:{bucket}}}"


def follower_records(openid: str) -> str:
    return follower_records_bucket(_bucket(openid, FOLLOWER_BUCKETS))


def follower_phone_copies(openid: str) -> str:
    return f"fe:{{f:{_bucket(openid, FOLLOWER_BUCKETS)}}}"


def follower_guarded(openid: str) -> str:
    return f"fg:{{f:{_bucket(openid, FOLLOWER_BUCKETS)}}}"


def follower_last_active(openid: str) -> str:
    return f"fa:{{f:{_bucket(openid, FOLLOWER_BUCKETS)}}}"


def phone_owner(lookup: str) -> str:
    return f"ph:{{p:{_bucket(lookup, PHONE_BUCKETS)}}}"


def phone_guardians(lookup: str) -> str:
    return f"pg:{{p:{_bucket(lookup, PHONE_BUCKETS)}}}"


# -- content edits (content.store): one hash tag, the save is one WATCH/MULTI transaction ----


def content_current() -> str:
    return "{content}:current"


def content_history(kind: str, item_id: str) -> str:
    return f"{{content}}:history:{kind}:{item_id}"


def content_revision() -> str:
    return "{content}:revision"
