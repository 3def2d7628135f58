"""The scheduler process (``endfraud scheduler``): APScheduler on a Redis job store, one leader.

APScheduler 3.x must never share a job store between two running schedulers
(https://apscheduler.readthedocs.io/en/3.x/userguide.html; agronholm/apscheduler#231), yet an
operator may well start two copies. So a process must hold a Redis lease to run the scheduler;
a second copy idles until the lease expires (the first died) and then takes over. Scheduled jobs
only enqueue durable work with deterministic ids, so even a fire during a lease hand-over is
deduplicated downstream.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.redis import RedisJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from redis import Redis, RedisCluster

from config import Config
from store import health, keys
from store.redis import RedisClient
from telemetry import metrics

log = logging.getLogger(__name__)

LEASE_MS = 15_000
RENEW_EVERY_S = 5.0
MISFIRE_GRACE_S = 300

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return false
"""

# Periodic jobs features register: (id, function(config, redis), APScheduler trigger kwargs).
PeriodicJob = tuple[str, Callable[[Config, RedisClient], None], dict[str, Any]]
PERIODIC: list[PeriodicJob] = []

# Modules that register periodic jobs or scheduled-job functions; features add theirs here.
SCHEDULE_MODULES: tuple[str, ...] = ("console.snapshots", "scheduler.broadcasts",
                                     "scheduler.escalation")


# Features that keep staff-made jobs in the Redis job store get the leader's scheduler when it is
# built (e.g. to add a job that reconciles definitions); nothing else may touch that store.
BuildHook = Callable[[BackgroundScheduler, Config, RedisClient], None]
ON_BUILD: list[BuildHook] = []


def on_build(hook: BuildHook) -> BuildHook:
    ON_BUILD.append(hook)
    return hook


def periodic(job_id: str, **trigger: Any) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def register(fn: Callable[..., None]) -> Callable[..., None]:
        PERIODIC.append((job_id, fn, trigger))
        return fn
    return register


class Lease:
    """A Redis lease: at most one holder; the holder must renew before it lapses."""

    def __init__(self, redis: RedisClient, key: str, ttl_ms: int = LEASE_MS) -> None:
        self.redis = redis
        self.key = key
        self.ttl_ms = ttl_ms
        self.holder = uuid.uuid4().hex
        self._renew = redis.register_script(_RENEW)

    def acquire(self) -> bool:
        return bool(self.redis.set(self.key, self.holder, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.holder, self.ttl_ms]))

    def release(self) -> None:
        if self.redis.get(self.key) == self.holder:
            self.redis.delete(self.key)


class SharedRedisJobStore(RedisJobStore):  # type: ignore[misc]  # APScheduler 3 has no types
    """APScheduler's Redis job store on our connection (standalone or cluster).

    Its jobs hash and run-times zset share the ``{jobs}`` hash tag, because the store updates
    both in one transaction. It does not own the connection, so shutting down leaves it open.
    """

    def __init__(self, redis: RedisClient) -> None:
        super().__init__(jobs_key=keys.scheduler_jobs(), run_times_key=keys.scheduler_run_times())
        self.redis = _BinaryTransactions(redis)

    def shutdown(self) -> None:
        pass


class _BinaryTransactions:
    """Our client as the job store needs it: raw bytes (jobs are pickles) and pipelines that are
    transactions, which a cluster client only gives when asked explicitly."""

    def __init__(self, redis: RedisClient) -> None:
        if isinstance(redis, RedisCluster):
            node = redis.get_default_node()
            self._client: RedisClient = RedisCluster(host=node.host, port=node.port,
                                                     decode_responses=False)
        else:
            kwargs = {**redis.connection_pool.connection_kwargs, "decode_responses": False}
            self._client = Redis(**kwargs)

    def pipeline(self) -> Any:
        return self._client.pipeline(transaction=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def job_store(redis: RedisClient) -> RedisJobStore:
    return SharedRedisJobStore(redis)


def build_scheduler(config: Config, redis: RedisClient) -> BackgroundScheduler:
    for name in SCHEDULE_MODULES:
        importlib.import_module(name)
    scheduler = BackgroundScheduler(
        jobstores={"default": job_store(redis), "memory": MemoryJobStore()},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": MISFIRE_GRACE_S},
        timezone="Asia/Shanghai",
    )
    for job_id, fn, trigger in PERIODIC:
        # Periodic jobs live in memory (re-added at every start); only staff-made schedules
        # (broadcasts) persist in the Redis job store.
        scheduler.add_job(fn, args=[config, redis], id=job_id, replace_existing=True,
                          jobstore="memory", **trigger)
    for hook in ON_BUILD:
        hook(scheduler, config, redis)
    return scheduler


def run_scheduler(config: Config, redis: RedisClient, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    lease = Lease(redis, keys.scheduler_leader())
    scheduler: BackgroundScheduler | None = None
    renewed_at = 0.0
    try:
        while not stop.is_set():
            try:
                health.beat(redis, "scheduler")
                if scheduler is None:
                    if lease.acquire():
                        renewed_at = time.monotonic()
                        log.info("scheduler: lease acquired, starting")
                        scheduler = build_scheduler(config, redis)
                        scheduler.start()
                elif lease.renew():
                    renewed_at = time.monotonic()
                else:
                    log.warning("scheduler: lease lost, stopping")
                    scheduler.shutdown(wait=False)
                    scheduler = None
            except Exception:
                log.exception("scheduler: loop error (redis down?)")
            if scheduler is not None and time.monotonic() - renewed_at > lease.ttl_ms / 1000:
                # Could not renew (Redis unreachable, or failing over) for a whole lease: a
                # standby may hold it by now, so stop rather than run beside it.
                log.warning("scheduler: lease not renewed in time, stopping")
                scheduler.shutdown(wait=False)
                scheduler = None
            metrics.SCHEDULER_LEADER.set(1 if scheduler is not None else 0)
            stop.wait(RENEW_EVERY_S)
    finally:
        metrics.SCHEDULER_LEADER.set(0)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        # Best effort on the way out: a lease we fail to release expires by itself.
        with contextlib.suppress(Exception):
            lease.release()
