"""One broadcast run, from the allowance check to the last batch; safe to run again after a crash.

Steps, each recorded in the run hash (broadcasts.store) so any worker can pick the run up:

1. ``queued`` → allowance check over the whole audience (one streamed pass); a run that would
   exceed a follower's monthly allowance is ``refused`` before anything goes out.
2. ``dispatching``: batches of ≤ ``broadcast.batch_size`` openids (or one ``sendall`` by tag).
   Each batch is written ahead (cursor range; on a replica too where the master has one,
   ``store.replication``) before its ``message/mass/send`` call, whose
   ``clientmsgid`` is ``<run id>:<batch no>``; then confirmed (cursor moves past it).
3. After a crash the written-ahead batch is re-sent with the same clientmsgid: WeChat answers
   45065 "clientmsgid exist" with the first msg_id if it went out (nothing is sent twice), or
   sends it if it did not. Then planning continues from the confirmed cursor.
   (https://developers.weixin.qq.com/doc/service/api/notify/message/api_masssend.html: a
   clientmsgid repeated within 24 h is refused; a resumed run is hours, not days, late.)
4. ``dispatched``: errcode 0 means accepted, not delivered; MASSSENDJOBFINISH events
   (handlers.mass_events) add the delivery totals to the run later.

Customer-service delivery (urgent area alerts) sends one text per follower who acted in the last
48 h, marking each follower in the run before the call (at most once per follower per run).

Run as a process: ``python -m broadcasts.dispatch <run id>`` (config from the environment), as
the benchmark and the crash test do.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from wechatpy.exceptions import WeChatClientException

from broadcasts import audience as audiences
from broadcasts import quota, store
from broadcasts.model import (
    CANCELLED,
    CUSTOM,
    CUSTOM_WINDOW_S,
    PAUSED,
    Broadcast,
    compose_text,
    month_key,
    plan_batches,
    seconds_to_month_end,
    slice_range,
)
from broadcasts.throttle import wait_for_slot
from config import Config
from store import keys
from store.redis import RedisClient
from store.replication import NotReplicated, Replication
from store.streams import PermanentJobError
from telemetry import metrics

log = logging.getLogger(__name__)

CLIENTMSGID_EXISTS = 45065
# The follower left the 48 h window, unfollowed, or got 20 messages without replying: skip them.
CUSTOM_SKIP_ERRCODES = (45015, 43004, 45047)
# Worth retrying later (system busy, rate limited); anything else fails the run for staff to see.
TRANSIENT_ERRCODES = (-1, 45011)
CUSTOM_MARKER_TTL_S = 7 * 24 * 3600


class RunBusy(Exception):
    """Another dispatcher holds this run; the job is retried after queue.reclaim_idle_s."""


@dataclass
class Dispatcher:
    config: Config
    redis: RedisClient
    wechat: Any
    library: Any
    clock: Callable[[], float] = time.time
    # Called after every batch: the worker uses it to keep its stream entry from being reclaimed.
    keep_alive: Callable[[], None] = lambda: None
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        self.replication = Replication(self.redis, self.config.redis.replica_wait_ms)

    def dispatch(self, run_id: str) -> dict[str, Any]:
        run = store.get_run(self.redis, run_id)
        if run is None:
            raise PermanentJobError(f"unknown broadcast run {run_id}")
        if run["status"] in store.FINISHED_STATUSES:
            return run
        broadcast = store.get(self.redis, run["broadcast_id"])
        if broadcast is None or broadcast.status == CANCELLED:
            return self._finish(run_id, store.SKIPPED, "broadcast cancelled")
        if broadcast.status == PAUSED and run["status"] == store.QUEUED:
            return self._finish(run_id, store.SKIPPED, "broadcast paused")
        if not store.acquire_run_lock(self.redis, run_id, self.holder, self._lock_ttl_s):
            raise RunBusy(run_id)
        try:
            return self._dispatch_locked(run, broadcast)
        except WeChatClientException as exc:
            if exc.errcode in TRANSIENT_ERRCODES:
                raise
            self._finish(run_id, store.FAILED, f"WeChat errcode {exc.errcode}: {exc.errmsg}")
            raise PermanentJobError(f"run {run_id}: errcode {exc.errcode}") from exc
        finally:
            store.release_run_lock(self.redis, run_id, self.holder)

    @property
    def _lock_ttl_s(self) -> int:
        # Renewed after every batch. A dead holder's lock lapses soon after its job becomes
        # reclaimable; until then the reclaimed job meets RunBusy and is retried.
        return 2 * self.config.queue.reclaim_idle_s

    def _dispatch_locked(self, run: dict[str, Any], broadcast: Broadcast) -> dict[str, Any]:
        run_id = run["run_id"]
        audience = audiences.resolve(self.redis, broadcast.audience)
        if run["status"] == store.QUEUED:
            month = month_key(self.clock())
            if broadcast.delivery != CUSTOM:
                checked = self._check_allowance(audience, month)
                if checked.refusal:
                    store.update_run(self.redis, run_id, audience_count=checked.audience,
                                     over_allowance=checked.over_allowance)
                    log.warning("broadcast run %s refused: %s", run_id, checked.refusal)
                    return self._finish(run_id, store.REFUSED, checked.refusal)
                store.update_run(self.redis, run_id, audience_count=checked.audience)
            store.update_run(self.redis, run_id, status=store.DISPATCHING, month=month,
                             started_ms=int(self.clock() * 1000), delivery=broadcast.delivery)
            run = store.get_run(self.redis, run_id) or run
        articles = [self.library.article(a) for a in broadcast.articles]
        text = compose_text(articles, self.library.reply)
        if broadcast.delivery == CUSTOM:
            self._send_custom(run, audience, text)
        elif audience.tag_id is not None:
            self._send_by_tag(run, audience, text)
        else:
            self._send_batches(run, audience, text)
        return self._finish(run_id, store.DISPATCHED, "")

    def _finish(self, run_id: str, status: str, reason: str) -> dict[str, Any]:
        store.update_run(self.redis, run_id, status=status, reason=reason,
                         finished_ms=int(self.clock() * 1000))
        metrics.BROADCAST_RUNS.labels(status=status).inc()
        return store.get_run(self.redis, run_id) or {}

    # -- allowance --------------------------------------------------------------------------------

    def _check_allowance(self, audience: audiences.Audience, month: str) -> quota.AllowanceCheck:
        allowance = self.config.broadcast.monthly_allowance
        if audience.local:
            members = (m for _b, ms in audiences.iter_members(self.redis, audience, month)
                       for m in ms)
            return quota.check(members, allowance)
        return quota.check(self._tag_members(audience, month), allowance)

    def _tag_members(self, audience: audiences.Audience,
                     month: str) -> Iterator[audiences.Member]:
        chunk: list[str] = []
        for openid in audiences.iter_tag_members(self.wechat, int(audience.tag_id or 0)):
            chunk.append(openid)
            if len(chunk) >= 10_000:
                yield from self._with_counts(chunk, month)
                chunk = []
        yield from self._with_counts(chunk, month)

    def _with_counts(self, openids: list[str], month: str) -> Iterator[audiences.Member]:
        counts = audiences.mass_counts(self.redis, openids, month) if openids else []
        for openid, count in zip(openids, counts, strict=True):
            yield audiences.Member(openid, count, 0)

    # -- mass send by openid list -------------------------------------------------------------

    def _openid_stream(self, audience: audiences.Audience, month: str,
                       start_bucket: int) -> Iterator[tuple[int, list[str]]]:
        for bucket, members in audiences.iter_members(self.redis, audience, month,
                                                      start_bucket=start_bucket):
            yield bucket, [m.openid for m in members]

    def _send_batches(self, run: dict[str, Any], audience: audiences.Audience,
                      text: str) -> None:
        run_id, month = run["run_id"], run["month"]
        cursor = tuple(run["cursor"] or (0, 0))
        number = run["next_batch"]
        inflight = run["inflight"]
        if inflight:
            # The batch that was on its way when the last dispatcher stopped: same openids, same
            # clientmsgid, so WeChat either sends it now or tells us it already did.
            start, end = tuple(inflight["start"]), tuple(inflight["end"])
            openids = slice_range(self._openid_stream(audience, month, start[0]), start, end)
            number = int(inflight["batch"])
            self._send_batch(run_id, number, start, end, openids, text, month)
            cursor, number = end, number + 1
        batches = plan_batches(self._openid_stream(audience, month, cursor[0]), cursor,
                               self.config.broadcast.batch_size)
        for batch in batches:
            if len(batch.openids) < 2:
                # 40130: a list needs two openids, and no batch had one to spare.
                store.update_run(self.redis, run_id, skipped_count=len(batch.openids),
                                 cursor=list(batch.end))
                continue
            self._send_batch(run_id, number, batch.start, batch.end, batch.openids, text, month)
            number += 1

    def _send_batch(self, run_id: str, number: int, start: tuple[int, int],
                    end: tuple[int, int], openids: list[str], text: str, month: str) -> None:
        store.begin_batch(self.redis, run_id, number, start, end, len(openids),
                          replication=self.replication)
        msg_id, repeated = self._mass_send(openids, text, f"{run_id}:{number}")
        # Counted before the batch is confirmed: a crash in between over-counts (a later run may
        # be refused needlessly) rather than under-counts (WeChat would silently filter).
        quota.record_sent(self.redis, openids, month, seconds_to_month_end(self.clock()))
        store.confirm_batch(self.redis, run_id, number, end, msg_id, len(openids), repeated)
        metrics.BROADCAST_BATCHES.labels(repeated=str(repeated).lower()).inc()
        self.keep_alive()
        store.acquire_run_lock(self.redis, run_id, self.holder, self._lock_ttl_s)

    def _mass_send(self, target: list[str] | int, text: str,
                   client_msg_id: str) -> tuple[int, bool]:
        """(msg_id, repeated): repeated when WeChat had already accepted this clientmsgid."""
        wait_for_slot(self.redis, "mass", self.config.broadcast.mass_calls_per_s)
        try:
            result = self.wechat.message.send_mass_text(target, text,
                                                        client_msg_id=client_msg_id)
            return int(result["msg_id"]), False
        except WeChatClientException as exc:
            if exc.errcode != CLIENTMSGID_EXISTS:
                raise
            body = json.loads(exc.response.content) if exc.response is not None else {}
            return int(body.get("msg_id") or 0), True

    # -- mass send by tag ----------------------------------------------------------------------

    def _send_by_tag(self, run: dict[str, Any], audience: audiences.Audience,
                     text: str) -> None:
        run_id, month = run["run_id"], run["month"]
        if run["next_batch"] >= 1:
            return
        store.begin_batch(self.redis, run_id, 0, (0, 0), (0, 0), run["audience_count"],
                          replication=self.replication)
        msg_id, repeated = self._mass_send(int(audience.tag_id or 0), text, f"{run_id}:0")
        if audience.local:
            members = (m.openid for _b, ms in audiences.iter_members(self.redis, audience, month)
                       for m in ms)
        else:
            members = (m.openid for m in self._tag_members(audience, month))
        chunk: list[str] = []
        ttl_s = seconds_to_month_end(self.clock())
        for openid in members:
            chunk.append(openid)
            if len(chunk) >= 10_000:
                quota.record_sent(self.redis, chunk, month, ttl_s)
                chunk = []
        quota.record_sent(self.redis, chunk, month, ttl_s)
        store.confirm_batch(self.redis, run_id, 0, (0, 0), msg_id, run["audience_count"],
                            repeated)
        metrics.BROADCAST_BATCHES.labels(repeated=str(repeated).lower()).inc()

    # -- customer-service delivery -------------------------------------------------------------

    def _send_custom(self, run: dict[str, Any], audience: audiences.Audience,
                     text: str) -> None:
        run_id = run["run_id"]
        marker = keys.broadcast_run_custom_sent(run_id)
        window_start = self.clock() - CUSTOM_WINDOW_S
        active = 0
        for _bucket, members in audiences.iter_members(self.redis, audience, run["month"],
                                                       with_last_active=True):
            for member in members:
                if member.last_active < window_start:
                    continue
                active += 1
                # The per-follower write-ahead, on a replica before the send.
                pipe = self.replication.pipeline(marker)
                pipe.hsetnx(marker, member.openid, "1")
                pipe.expire(marker, CUSTOM_MARKER_TTL_S)
                try:
                    if not self.replication.execute(pipe)[0]:
                        continue  # sent (or attempted) by an earlier attempt of this run
                except NotReplicated:
                    self.redis.hdel(marker, member.openid)  # not sent: the retry sends it
                    raise
                wait_for_slot(self.redis, "custom", self.config.broadcast.custom_per_s)
                try:
                    self.wechat.message.send_text(member.openid, text)
                except WeChatClientException as exc:
                    if exc.errcode in CUSTOM_SKIP_ERRCODES:
                        self.redis.hincrby(keys.broadcast_run(run_id), "error_count", 1)
                        continue
                    self.redis.hdel(marker, member.openid)  # not sent: the retry sends it
                    raise
                self.redis.hincrby(keys.broadcast_run(run_id), "sent_count", 1)
            self.keep_alive()
        store.update_run(self.redis, run_id, total_count=active, audience_count=active)


def dispatch_run(config: Config, redis: RedisClient, run_id: str,
                 keep_alive: Callable[[], None] = lambda: None) -> dict[str, Any]:
    from bot.wechat import make_client
    from content.store import effective_library

    dispatcher = Dispatcher(config, redis, make_client(config, redis), effective_library(redis),
                            keep_alive=keep_alive)
    return dispatcher.dispatch(run_id)


def main(argv: list[str]) -> int:
    from config import load_config
    from store.redis import connect

    config = load_config()
    run = dispatch_run(config, connect(config), argv[0])
    print(json.dumps({k: run.get(k) for k in ("run_id", "status", "batches_sent",
                                                 "openids_sent", "reason")}))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main(sys.argv[1:]))
