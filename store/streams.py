"""A durable job queue on Redis Streams with consumer groups.

Guarantees (see platform-facts: Redis Streams): a job accepted by ``enqueue`` is on the stream
before the caller answers anyone; a consumer ``XACK``s only after the handler returned, so a
worker killed mid-job leaves the entry in the group's pending list, and another worker takes it
over with ``XAUTOCLAIM`` after ``queue.reclaim_idle_s``. That is at-least-once; handlers make it
effectively once with their own ``SET NX`` markers around each side effect. Entries delivered
``queue.max_deliveries`` times, or failed with ``PermanentJobError``, move to the dead-letter
stream that staff can inspect and retry.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import redis

from config import QueueConfig
from store import keys
from store.redis import RedisClient
from store.replication import Replication
from telemetry import logs, metrics

log = logging.getLogger(__name__)

GROUP = "workers"
JOB_MARKER_TTL_S = 7 * 24 * 3600
STREAM_MAXLEN = 1_000_000
DEPTH_COUNT_CAP = 100_000  # depth past this is reported as the cap on Redis < 7

# A stream entry id as Redis writes it; XRANGE would take "-", "+" or "(1-0" as ranges and
# refuse "abc" with an error (a 500 from the retry endpoints).
_ENTRY_ID = re.compile(r"[0-9]{1,19}-[0-9]{1,19}")  # < 2**64 each

# Idempotent enqueue: marker and stream share the queue's hash tag, so this is cluster-safe.
# A repeat still writes (the marker's TTL): WAIT covers this connection's own writes only
# (Redis >= 7), and the repeat must not be acknowledged before the first write is replicated.
_ENQUEUE_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'job_id', ARGV[3],
                    'type', ARGV[4], 'payload', ARGV[5], 'enqueued_ms', ARGV[6])
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
return false
"""


class PermanentJobError(Exception):
    """The job can never succeed (bad data, recipient gone): dead-letter it without retrying."""


@dataclass(frozen=True)
class Job:
    entry_id: str
    job_id: str
    type: str
    payload: dict[str, Any]
    enqueued_ms: int
    deliveries: int = 1


@dataclass
class DurableQueue:
    redis: RedisClient
    name: str
    config: QueueConfig = field(default_factory=QueueConfig)

    def __post_init__(self) -> None:
        self.stream = keys.queue_stream(self.name)
        self.dead = keys.queue_dead_letters(self.name)

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def enqueue(self, job_type: str, payload: dict[str, Any], job_id: str | None = None) -> bool:
        """Append a job; with ``job_id``, a second enqueue of the same id is a no-op (False)."""
        return self.enqueue_many(job_type, [(job_id or uuid.uuid4().hex, payload)])[0]

    def enqueue_many(self, job_type: str, jobs: list[tuple[str, dict[str, Any]]],
                     now_ms: int | None = None,
                     replication: Replication | None = None) -> list[bool]:
        """Append many (job_id, payload) jobs in one round trip; per job, False = already queued.

        With ``replication``, the same round trip ends in ``WAIT`` for a replica
        (``store.replication``: raises ``NotReplicated`` if none confirmed in time).
        EVAL rather than EVALSHA: a pipeline cannot recover from NOSCRIPT halfway (e.g. after a
        Redis restart), and the script is short.
        """
        pipe = (replication.pipeline(self.stream) if replication is not None
                else self.redis.pipeline(transaction=False))
        self.enqueue_commands(pipe, job_type, jobs, now_ms)
        replies = replication.execute(pipe) if replication is not None else pipe.execute()
        return [bool(entry) for entry in replies]

    def enqueue_commands(self, pipe: Any, job_type: str, jobs: list[tuple[str, dict[str, Any]]],
                         now_ms: int | None = None) -> None:
        """``enqueue_many`` queued on the caller's pipeline (one reply per job: an entry id, or
        None when already queued), so other writes can share its round trip."""
        stamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
        for job_id, payload in jobs:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            pipe.execute_command("EVAL", _ENQUEUE_ONCE, 2, self.stream,
                                 keys.queue_job_marker(self.name, job_id), JOB_MARKER_TTL_S,
                                 STREAM_MAXLEN, job_id, job_type, body, stamp)

    def depth(self) -> int:
        """Jobs not yet acknowledged: waiting in the stream plus pending in the group."""
        try:
            groups = self.redis.xinfo_groups(self.stream)
        except redis.ResponseError:
            return 0
        for group in groups:
            if group["name"] == GROUP:
                lag = group.get("lag")
                if lag is not None:
                    waiting = int(lag)
                else:
                    # Redis < 7 reports no lag: count what lies past the group's last delivery.
                    after = "(" + str(group["last-delivered-id"])
                    waiting = len(self.redis.xrange(self.stream, min=after, max="+",
                                                    count=DEPTH_COUNT_CAP))
                return waiting + int(group["pending"])
        return int(self.redis.xlen(self.stream))

    def dead_letters(self, count: int = 100) -> list[dict[str, Any]]:
        rows = self.redis.xrevrange(self.dead, count=count)
        return [{"entry_id": entry_id, **fields} for entry_id, fields in rows]

    def retry_dead_letter(self, entry_id: str) -> bool:
        if not _ENTRY_ID.fullmatch(entry_id):
            return False
        rows = self.redis.xrange(self.dead, min=entry_id, max=entry_id)
        if not rows:
            return False
        _, fields = rows[0]
        payload = json.loads(fields["payload"])
        # A new job id: the original marker still blocks the old one, on purpose.
        self.enqueue(fields["type"], payload, job_id=f"{fields['job_id']}:retry:{entry_id}")
        self.redis.xdel(self.dead, entry_id)
        return True

    # -- consuming -----------------------------------------------------------------------------

    def _to_job(self, entry_id: str, fields: dict[str, str], deliveries: int) -> Job:
        return Job(
            entry_id=entry_id,
            job_id=fields.get("job_id", entry_id),
            type=fields.get("type", ""),
            payload=json.loads(fields.get("payload") or "{}"),
            enqueued_ms=int(fields.get("enqueued_ms") or 0),
            deliveries=deliveries,
        )

    def read(self, consumer: str, count: int = 10, block_ms: int | None = None,
             acks: list[str] | None = None) -> list[Job]:
        """New entries for ``consumer``; ``acks`` (entry ids of finished jobs) are acknowledged
        in the same round trip, before the read blocks."""
        block = self.config.block_ms if block_ms is None else block_ms
        if acks:
            pipe = self.redis.pipeline(transaction=False)
            pipe.xack(self.stream, GROUP, *acks)
            pipe.xreadgroup(GROUP, consumer, {self.stream: ">"}, count=count, block=block or None)
            reply = pipe.execute()[1]
        else:
            reply = self.redis.xreadgroup(GROUP, consumer, {self.stream: ">"}, count=count,
                                          block=block or None)
        jobs = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                if fields is not None:
                    jobs.append(self._to_job(entry_id, fields, 1))
        return jobs

    def reclaim(self, consumer: str, count: int = 10) -> list[Job]:
        """Take over jobs another (crashed or stuck) consumer held longer than reclaim_idle_s."""
        min_idle_ms = self.config.reclaim_idle_s * 1000
        reply = self.redis.xautoclaim(self.stream, GROUP, consumer, min_idle_ms,
                                      start_id="0-0", count=count)
        entries = reply[1] if reply else []
        jobs = []
        for entry_id, fields in entries:
            if not fields:
                # Trimmed away while pending: nothing left to run.
                self.redis.xack(self.stream, GROUP, entry_id)
                continue
            pending = self.redis.xpending_range(self.stream, GROUP, min=entry_id, max=entry_id,
                                                count=1)
            deliveries = int(pending[0]["times_delivered"]) if pending else 1
            jobs.append(self._to_job(entry_id, fields, deliveries))
        return jobs

    def ack(self, job: Job) -> None:
        self.redis.xack(self.stream, GROUP, job.entry_id)

    def bury(self, job: Job, reason: str) -> None:
        """Move a job to the dead-letter stream (then ack it, so it is never retried by itself)."""
        self.redis.xadd(self.dead, {
            "job_id": job.job_id, "type": job.type,
            "payload": json.dumps(job.payload, ensure_ascii=False),
            "reason": reason[:500], "deliveries": str(job.deliveries),
            "failed_ms": str(int(time.time() * 1000)),
        }, maxlen=100_000, approximate=True)
        self.ack(job)
        metrics.DEAD_LETTERED.labels(queue=self.name).inc()


JobHandler = Callable[[Job], None]


def default_consumer_name() -> str:
    return f"{socket.gethostname()}:{threading.get_native_id()}:{uuid.uuid4().hex[:6]}"


def process(queue: DurableQueue, job: Job, handle: JobHandler,
            ack: Callable[[Job], None] | None = None) -> None:
    """Run one job: ack on success (``queue.ack``, or ``ack`` to defer it), dead-letter on
    permanent failure or too many deliveries.

    Every log line written meanwhile carries the job id (and the alert id of alert jobs)."""
    alert_id = job.payload.get("alert_id") if isinstance(job.payload, dict) else None
    with logs.context(job_id=job.job_id, alert_id=str(alert_id) if alert_id else None):
        started = time.perf_counter()
        outcome = _process(queue, job, handle, ack or queue.ack)
        metrics.JOB_DURATION.labels(queue=queue.name).observe(time.perf_counter() - started)
        metrics.JOBS.labels(queue=queue.name, outcome=outcome).inc()


def _process(queue: DurableQueue, job: Job, handle: JobHandler,
             ack: Callable[[Job], None]) -> str:
    if job.deliveries > queue.config.max_deliveries:
        log.warning("job %s (%s) dead-lettered after %d deliveries",
                    job.job_id, job.type, job.deliveries)
        queue.bury(job, f"gave up after {job.deliveries - 1} deliveries")
        return "dead"
    try:
        handle(job)
    except PermanentJobError as exc:
        log.warning("job %s (%s) failed permanently: %s", job.job_id, job.type, exc)
        queue.bury(job, str(exc))
        return "dead"
    except Exception:
        # Left pending on purpose: reclaimed after reclaim_idle_s, counted towards max_deliveries.
        log.exception("job %s (%s) failed; will be retried", job.job_id, job.type)
        return "retry"
    ack(job)
    return "done"


class Progress:
    """When a consumer loop last completed a round against Redis (monotonic seconds).

    Written by the consumer thread, read by the worker's heartbeat: a consumer whose progress
    stops advancing is stuck (or dead), and /healthz says so.
    """

    def __init__(self) -> None:
        self.last_ok_s = time.monotonic()

    def mark(self) -> None:
        self.last_ok_s = time.monotonic()

    def idle_s(self) -> float:
        return time.monotonic() - self.last_ok_s


BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 5.0


def backoff_s(failures: int) -> float:
    """Wait after the n-th failure in a row: 0.1 s doubling to at most 5 s (pure)."""
    # Exponent capped: 2.0 ** 1024 overflows, and a long outage counts that many failures.
    return min(BACKOFF_FIRST_S * 2.0 ** min(max(failures - 1, 0), 16), BACKOFF_MAX_S)


def consume(queue: DurableQueue, handle: JobHandler, stop: threading.Event,
            consumer: str | None = None, reclaim_every_s: float = 5.0,
            progress: Progress | None = None) -> None:
    """The consumer loop: new jobs first, and every few seconds jobs abandoned by others.

    Up to ``queue.config.concurrency`` jobs run at once on a thread pool; each is acked by the
    thread that ran it. The loop reads only as many entries as there are free threads, so
    nothing waits in this process that another worker could have taken.

    It ends only when ``stop`` is set. Any error from Redis (connection lost, timeout, OOM,
    READONLY or CLUSTERDOWN during a failover, MISCONF after a failed save, NOGROUP after a
    flush) or from reading an entry is logged and retried after a growing backoff; un-acked jobs
    stay in the group's pending list meanwhile. Handler errors never get here (``process`` keeps
    them). ``progress`` advances after each round of the loop unless a job has been running
    longer than ``queue.consumer_stuck_s``: one hung job (say, a call with no timeout) makes the
    consumer report stuck even while its other threads carry on.
    """
    consumer = consumer or default_consumer_name()
    progress = progress or Progress()
    acks = DeferredAcks()
    width = max(queue.config.concurrency, 1)
    inflight: dict[Future[None], float] = {}  # job → when it started (monotonic s)
    group_ready = False
    next_reclaim = 0.0
    failures = 0
    with ThreadPoolExecutor(width, thread_name_prefix=f"job-{queue.name}") as pool:

        def run(jobs: list[Job]) -> None:
            for job in jobs:
                inflight[pool.submit(_process_safely, queue, job, handle,
                                     acks.add)] = time.monotonic()

        def round_done() -> None:
            for future in [f for f in inflight if f.done()]:
                del inflight[future]
                ended = future.exception()
                if ended is not None and not isinstance(ended, Exception):
                    raise ended  # SystemExit and the like end the consumer, as without a pool
            now = time.monotonic()
            if all(now - started <= queue.config.consumer_stuck_s
                   for started in inflight.values()):
                progress.mark()

        while not stop.is_set():
            if len(inflight) >= width:
                wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
                round_done()
                continue
            round_done()
            try:
                if not group_ready:
                    queue.ensure_group()
                    group_ready = True
                if time.monotonic() >= next_reclaim:
                    # Ack what finished first, or we would reclaim our own finished jobs.
                    acks.flush(queue)
                    run(queue.reclaim(consumer, count=width - len(inflight)))
                    next_reclaim = time.monotonic() + reclaim_every_s
                if len(inflight) < width:
                    taken = acks.take()
                    try:
                        run(queue.read(consumer, count=width - len(inflight), acks=taken))
                    except BaseException:
                        acks.put_back(taken)  # XACK is idempotent: sending them again is safe
                        raise
                round_done()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - a consumer must outlive any single failure
                failures += 1
                if isinstance(exc, redis.ResponseError) and "NOGROUP" in str(exc):
                    group_ready = False  # the stream was deleted (FLUSHALL, trim): create it
                delay = backoff_s(failures)
                log.warning("queue %s: %s: %s; retrying in %.1f s (failure %d in a row)",
                            queue.name, type(exc).__name__, exc, delay, failures)
                stop.wait(delay)
        wait(list(inflight))
        try:
            acks.flush(queue)
        except Exception:  # noqa: BLE001 - left pending: reclaimed and re-run (idempotent)
            log.warning("queue %s: finished jobs could not be acked on the way out", queue.name)


class DeferredAcks:
    """Entry ids of jobs a consumer's threads finished, acked with the consumer's next read.

    An XACK of its own is a round trip per job; riding on the next XREADGROUP it costs nothing
    more. A finished job stays pending until then: at most ``queue.block_ms`` when the queue is
    idle, at once under load. Should the process die meanwhile, the job is reclaimed and run
    again, which every job must bear anyway (a crash between its work and its ack does the same).
    """

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._lock = threading.Lock()

    def add(self, job: Job) -> None:
        with self._lock:
            self._ids.append(job.entry_id)

    def take(self) -> list[str]:
        with self._lock:
            taken, self._ids = self._ids, []
        return taken

    def put_back(self, ids: list[str]) -> None:
        with self._lock:
            self._ids[:0] = ids

    def flush(self, queue: DurableQueue) -> None:
        """Ack what has finished now (one round trip; none when nothing has)."""
        taken = self.take()
        if not taken:
            return
        try:
            queue.redis.xack(queue.stream, GROUP, *taken)
        except BaseException:
            self.put_back(taken)
            raise


def _process_safely(queue: DurableQueue, job: Job, handle: JobHandler,
                    ack: Callable[[Job], None] | None = None) -> None:
    try:
        process(queue, job, handle, ack)
    except Exception as exc:  # noqa: BLE001 - the pool thread must live on
        # The ack (or dead-lettering) failed: the job stays pending and is reclaimed later.
        log.warning("job %s (%s): could not be acked (%s)", job.job_id, job.type,
                    type(exc).__name__)
