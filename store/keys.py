"""The Redis key schema: the only place a key string is formed.

Redis Cluster readiness: every group of keys touched by one multi-key operation (MULTI/EXEC,
Lua script, MGET, XREADGROUP over several streams) shares one hash tag ``{...}`` so the keys live
in one slot. ``tests/test_cluster.py`` runs each such operation on a real 3-master cluster.

| key | type | TTL | written by |
|---|---|---|---|
| ``wx:{dedup}:<sha1 of msg key>`` (sharded ``{dedup:NN}``) | string: "pending" or cached reply | wechat.dedup_ttl_s | webhook: one handling per MsgId / FromUser+CreateTime+Event |
| ``wx:{nonce}:<sha1 of timestamp:nonce>`` (sharded ``{nonce:NN}``) | string: sha1 of the message XML | until the timestamp leaves wechat.timestamp_window_s | webhook: a signed triple replayed with another body is refused |
| ``wx:{token}:<appid>`` | string: access token | expires_in from WeChat | bot.wechat token keeper (wechatpy session) |
| ``wx:{token}:<appid>:lock`` | string: holder id | 30 s | token refresh lock (one refresher at a time) |
| ``q:{<queue>}:stream`` | stream of jobs | none (trimmed ~MAXLEN) | store.streams.DurableQueue |
| ``q:{<queue>}:id:<job_id>`` | string marker | 7 days | idempotent enqueue (Lua with the stream: same tag) |
| ``q:{<queue>}:dead`` | stream of dead letters | none | jobs past queue.max_deliveries or permanently failed |
| ``health:{hb}:<role>`` | string: unix ms | 15 s | heartbeat of worker / scheduler (read with one MGET) |
| ``health:{hb}:consumers`` | hash: ``<worker>/<queue>`` → ``<report ms>:<1|0>`` | none (stale fields pruned after 15 s) | each worker's consumer threads: healthy or dead/stuck |
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
| ``tally:{t:<n>}`` | hash: tally field → number, n = 0..15 (a write picks one at random) | none | store.tallies: the console's alert funnel and latency, summed over the shards |
| ``audit:{a}`` | stream: actor, action, target, detail | none (MAXLEN ~1 M) | console.audit: every staff action |
| ``staff:{staff}:user:<username>`` | hash: password_hash (argon2), role, station, created_ms, generation | none | console accounts (a re-created account gets a new generation) |
| ``staff:{staff}:users`` | set of usernames | none | console accounts (written with the user hash in one MULTI) |
| ``risk:<digest>`` | hash: kind, display (masked), count, first_seen, last_seen, ``type:<id>`` and ``src:<source>`` counts, confirmed_by/at | none | intel.risklist: alerts and promoted clues (one Lua script, single key) |
| ``clue:{clues}:<id>`` | hash: clue record (content AES-GCM encrypted), status, review | none | intel.reports: a follower's report (MULTI with the two indexes) |
| ``clue:{clues}:seq`` | string counter | none | intel.reports: clue ids |
| ``clue:{clues}:pending`` / ``clue:{clues}:all`` | zset: clue id → created ms | none | intel.reports: review queue / every clue (same MULTI as the record) |
| ``clue_rate:{<openid>}:<yyyymmdd>`` | string counter | 2 days | intel.reports: reports per follower per day |
| ``staff:{login}:try:<username>|<client>`` | string counter of login attempts of the pair | console.login_lockout_s | console.throttle (one Lua script with the two below) |
| ``staff:{login}:wait:<username>|<client>`` | string marker: the pair waits out its delay | the delay | console.throttle (growing delays) |
| ``staff:{login}:fail:ip:<client>`` | string counter of failed logins from one client address | console.login_lockout_s | console.throttle (block of that client only) |
| ``staff:{session}:<session id>`` | string: "<username> <account generation>" | console.session_lifetime_s | console.sessions: server-side staff session (logout deletes it) |
| ``stats:{daily}:<metric>`` | hash: YYYY-MM-DD → value of the counter at its last snapshot that day | none | console.stats snapshot (hourly, scheduler) for "over time" charts |
| ``reg:{dir}:stations`` / ``reg:{dir}:communities`` / ``reg:{dir}:officers`` | hash: id → JSON record | none | registration.directory (one tag: a save WATCHes the referenced records) |
| ``reg:{dir}:seq`` | hash: kind → last generated id | none | registration.directory ids |
| ``reg:{dir}:qr`` | hash: scene string → JSON {ticket, url} of the permanent QR code | none | registration.qr (created once per scene) |
| ``reg:{dir}:tags`` | hash: community id → WeChat tag id | none | registration.tags |
| ``reg:{stats}`` | hash: counter field → number (followers, bound, guardians per officer/community) | none | registration.stats (MULTI with the day hash) |
| ``reg:{stats}:day:<yyyymmdd>`` | hash: counter field → number of that day's follows, binds, unfollows | none | registration.stats |
| ``reg:rl:<name>:<subject>:<window>`` | string counter / marker | the window | registration.limits: SMS per number / follower per day, resend throttle, lockout |
| ``reg:sms:done:<job id>`` | string marker | 1 day | registration jobs: an SMS is sent once per job |
| ``al:{a:<alert_id>}`` | hash: alert fields (phone lookup key + AES-GCM copy, never the plain number), status, headline answer, case, ``r:<openid>`` delivery markers, ``ans:<openid>`` each person's answer, ``late:<openid>`` answers after close | alerts.retention_days | alerts.store (worker, answers: WATCH/MULTI with the timeline, escalation) |
| ``al:{a:<alert_id>}:tl`` | list of JSON timeline entries {at_ms, event, actor, detail}, at most 1000 (newest kept) | alerts.retention_days | alerts.store (MULTI / Lua with the alert hash: same tag) |
| ``al:{a:<alert_id>}:rl:<openid>`` | string counter of answer-link posts | the rate window (10 min) | api.alerts answer page (INCR + EXPIRE, one key) |
| ``alx:{ad:<yyyymmdd>}`` / ``alx:{ad:<yyyymmdd>}:s:<station>`` | zset: alert id → received ms (all / one station's) | retention + 1 day | alerts.store: alert lists for the console |
| ``aln:<source>:<nonce>`` | string marker | 2 × alerts.signature_window_s | alerts.signing: replayed nonces refused (single key) |
| ``alm:<msgid>`` | string "alert_id openid" | 2 days | template msgid → warning, for TEMPLATESENDJOBFINISH |
| ``alo:{<openid>}`` | hash: msgid → received ms of job-finish events nobody claimed yet | 1 day | handlers.template_events; claimed by the sender or by the re-send check |
| ``alw:{<openid>}`` | string: alert id of the follower's latest warning | 1 day | answers by reply keyword |
| ``ale:{esc}`` | zset: alert id → answer deadline ms | none (members removed when answered / escalated) | alerts.store; scanned by scheduler.escalation |
| ``alcb:{cb}:open`` / ``alcb:{cb}:open:s:<station>`` | zset: open entry id → created ms (all / one station's) | none (closed entries leave; pruned after alerts.retention_days) | 96110 call-back queue, paged newest first (Lua / MULTI with the items: same tag) |
| ``alcb:{cb}:items`` / ``alcb:{cb}:all`` | hash: entry id → JSON / zset: entry id → created ms of every entry | none (pruned after alerts.retention_days) | 96110 call-back queue |
| ``alcs:{cs}`` / ``alcs:{cs}:s:<station>`` | zset: alert id → opened ms of open urgent ("已转账") cases (all / one station's) | none (closed cases leave; pruned after alerts.retention_days) | alerts.answers / console, paged newest first (one MULTI: same tag) |
| ``alcs:{cs}:stations`` | set of station ids that ever had an urgent case | none | retention pruning of the per-station zsets |
| ``alu:{u}:counts`` / ``alu:{u}:<yyyymmdd>`` | hash: day → alerts for unregistered numbers / HyperLogLog of those numbers' lookup keys | none / retention | alerts.delivery (one pipeline: same tag) |
| ``repl:{fence}`` / ``repl:{fence:<n>}`` | string counter | 1 h | store.replication: the write a WAIT fence waits for (one per master, n picks its slot) |
| ``bc:{bc}:defs`` | hash: broadcast id → JSON definition (title, articles, audience, schedule, status, rev) | none | broadcasts.store (staff API) |
| ``bc:{bc}:revision`` | string counter | none | bumped on every broadcast edit; the scheduler reconciles when it moves |
| ``bc:{bc}:applied`` | hash: broadcast id → definition rev the scheduler applied | none | scheduler.broadcasts reconcile |
| ``bc:{bc}:runs:<broadcast id>`` | zset: run id → scheduled ms | none | broadcasts.store: a broadcast's runs |
| ``bcr:{r:<run id>}`` | hash: run state, progress cursor, in-flight batch, MASSSENDJOBFINISH totals | 400 days | broadcasts.store (MULTI / Lua with the two below) |
| ``bcr:{r:<run id>}:batches`` | hash: batch no → JSON {msg_id, size, start, end} | 400 days | dispatch progress (same MULTI as the run hash) |
| ``bcr:{r:<run id>}:results`` | hash: msg_id → JSON finish counts | 400 days | MASSSENDJOBFINISH, once per MsgID (Lua with the run hash) |
| ``bcr:{r:<run id>}:cs`` | hash: openid → 1 | 7 days | customer-service delivery: one message per follower per run |
| ``bcr:{r:<run id>}:lock`` | string: holder | queue.reclaim_idle_s | one dispatcher per run |
| ``bcm:{bcm:<msg_id % 64>}`` | hash: msg_id → run id | none | MASSSENDJOBFINISH → run |
| ``bq:{f:<b>}:<yyyymm>`` | hash: openid → mass sends received that month | ~2 months | broadcasts.quota (same bucket/tag as the follower records) |
| ``rl:{rl:<api>}:<unix s>`` | string counter | 2 s | broadcasts.throttle: API calls per second across workers |
| ``shot:<job_id>`` | hash: status, reply, line count, OCR ms, fraud type, AES-GCM sealed recognised lines, ``sent_ms`` marker | 7 days | worker.screenshot_jobs: one screenshot check's result (single key) |

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


def webhook_nonce(timestamp: str, nonce: str) -> str:
    # The signed timestamp/nonce pair of one accepted POST; single-key operations only.
    digest = _digest(f"{timestamp}:{nonce}")
    return f"wx:{{nonce:{int(digest[:4], 16) % DEDUP_SHARDS}}}:{digest}"


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


def consumer_health() -> str:
    return "health:{hb}:consumers"


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


def tally(shard: int) -> str:
    return f"tally:{{t:{shard}}}"


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


# -- staff console (console/) ------------------------------------------------------------------
# Both failure counters share the {login} tag: one login attempt updates both in one pipeline.


def login_attempts(username: str, client: str) -> str:
    return f"staff:{{login}}:try:{username}|{client}"


def login_wait(username: str, client: str) -> str:
    return f"staff:{{login}}:wait:{username}|{client}"


def staff_session(session_id: str) -> str:
    return f"staff:{{session}}:{session_id}"


def login_failures_ip(ip: str) -> str:
    return f"staff:{{login}}:fail:ip:{ip}"


def daily_stats(metric: str) -> str:
    return f"stats:{{daily}}:{metric}"


# -- risk list and clue reports (intel.risklist, intel.reports) ----------------------------------


def risk_entry(digest: str) -> str:
    # One hash per value, single-key writes only: no tag needed, entries spread over the cluster.
    return f"risk:{digest}"


def clue(clue_id: str) -> str:
    return f"clue:{{clues}}:{clue_id}"


def clue_sequence() -> str:
    return "clue:{clues}:seq"


def clues_pending() -> str:
    return "clue:{clues}:pending"


def clues_all() -> str:
    return "clue:{clues}:all"


def clue_rate(openid: str, day: str) -> str:
    return f"clue_rate:{{{openid}}}:{day}"


# -- citizen registration (registration/) --------------------------------------------------------
# Directory, QR cache and tag map share the {dir} tag: a save WATCHes the station and community
# it refers to. The statistics hashes share {stats}: one MULTI updates totals and the day.


def directory(kind: str) -> str:
    """kind: "stations", "communities" or "officers"."""
    return f"reg:{{dir}}:{kind}"


def directory_sequence() -> str:
    return "reg:{dir}:seq"


def officer_link_code(digest: str) -> str:
    """A one-time code linking an officer's WeChat (``registration.officer_link``), by digest."""
    return f"reg:olink:{{{digest}}}"


def qr_codes() -> str:
    return "reg:{dir}:qr"


def community_tags() -> str:
    return "reg:{dir}:tags"


def registration_stats() -> str:
    return "reg:{stats}"


def registration_day(day: str) -> str:
    return f"reg:{{stats}}:day:{day}"


def registration_limit(name: str, subject: str, window: str = "") -> str:
    # Single-key operations only (INCR + EXPIRE on one key), so no hash tag is needed.
    return f"reg:rl:{name}:{subject}:{window}"


def sms_sent_marker(job_id: str) -> str:
    return f"reg:sms:done:{job_id}"


# -- real-time warnings (alerts/) ----------------------------------------------------------------
# An alert's hash and timeline share the {a:<id>} tag: created together by one Lua script and
# appended to in MULTI. The call-back queue's zset and items share {cb}.


def alert(alert_id: str) -> str:
    return f"al:{{a:{alert_id}}}"


def alert_timeline(alert_id: str) -> str:
    return f"al:{{a:{alert_id}}}:tl"


def alert_day_index(day: str, station: str = "") -> str:
    suffix = f":s:{station}" if station else ""
    return f"alx:{{ad:{day}}}{suffix}"


def alert_nonce(source: str, nonce: str) -> str:
    return f"aln:{source}:{_digest(nonce)}"


def alert_msgid(msgid: str) -> str:
    return f"alm:{msgid}"


def alert_unclaimed_finishes(openid: str) -> str:
    return f"alo:{{{openid}}}"


def alert_open_warning(openid: str) -> str:
    return f"alw:{{{openid}}}"


def alert_deadlines() -> str:
    return "ale:{esc}"


def alert_answer_posts(alert_id: str, openid: str) -> str:
    return f"al:{{a:{alert_id}}}:rl:{openid}"


def alert_callbacks_open(station: str = "") -> str:
    # Every call-back key shares {cb}: an entry is added to its lists in one Lua script and
    # closed or pruned in one MULTI.
    suffix = f":s:{station}" if station else ""
    return f"alcb:{{cb}}:open{suffix}"


def alert_callback_items() -> str:
    return "alcb:{cb}:items"


def alert_callbacks_all() -> str:
    return "alcb:{cb}:all"


def alert_urgent_cases(station: str = "") -> str:
    suffix = f":s:{station}" if station else ""
    return f"alcs:{{cs}}{suffix}"


def alert_urgent_stations() -> str:
    return "alcs:{cs}:stations"


def alert_unregistered_counts() -> str:
    return "alu:{u}:counts"


def alert_unregistered_numbers(day: str) -> str:
    return f"alu:{{u}}:{day}"


# -- scheduled broadcasts (broadcasts/) ---------------------------------------------------------
# Definitions share {bc}; each run's state, batches and results share {r:<run id>}, so a batch's
# write-ahead/confirm MULTI and the finish-event Lua script stay in one slot. Monthly counters
# share the follower bucket's tag, so one pipeline reads a bucket's records and counters together.


def broadcast_definitions() -> str:
    return "bc:{bc}:defs"


def broadcast_revision() -> str:
    return "bc:{bc}:revision"


def broadcast_applied() -> str:
    return "bc:{bc}:applied"


def broadcast_runs(broadcast_id: str) -> str:
    return f"bc:{{bc}}:runs:{broadcast_id}"


def broadcast_run(run_id: str) -> str:
    return f"bcr:{{r:{run_id}}}"


def broadcast_run_batches(run_id: str) -> str:
    return f"bcr:{{r:{run_id}}}:batches"


def broadcast_run_results(run_id: str) -> str:
    return f"bcr:{{r:{run_id}}}:results"


def broadcast_run_custom_sent(run_id: str) -> str:
    return f"bcr:{{r:{run_id}}}:cs"


def broadcast_run_lock(run_id: str) -> str:
    return f"bcr:{{r:{run_id}}}:lock"


BROADCAST_MSG_SHARDS = 64


def broadcast_msg_index(msg_id: int) -> str:
    shard = int(msg_id) % BROADCAST_MSG_SHARDS
    return f"bcm:{{bcm:{shard}}}"


def mass_quota_bucket(bucket: int, month: str) -> str:
    return f"bq:{{f:{bucket}}}:{month}"


def mass_quota(openid: str, month: str) -> str:
    return mass_quota_bucket(_bucket(openid, FOLLOWER_BUCKETS), month)


def follower_last_active_bucket(bucket: int) -> str:
    # The same key as follower_last_active(openid), addressed by bucket for streaming reads.
    return f"fa:{{f:{bucket}}}"


def api_rate(api: str, second: int) -> str:
    return f"rl:{{rl:{api}}}:{second}"


def replication_fence(tag: str) -> str:
    """A counter a ``WAIT`` fence writes on one master (``tag`` picks a slot on that master)."""
    return f"repl:{{fence:{tag}}}" if tag else "repl:{fence}"


# ---- screenshot checks --------------------------------------------------------------------


def screenshot_result(job_id: str) -> str:
    return f"shot:{job_id}"
