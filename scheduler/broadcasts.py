"""Staff-made broadcast schedules in the leader's APScheduler (Redis job store).

Only the scheduler process may touch the job store (APScheduler 3 must never share a store
between running schedulers: https://apscheduler.readthedocs.io/en/3.x/userguide.html,
agronholm/apscheduler#231). So the staff API only writes definitions to Redis and bumps
``bc:{bc}:revision``; the leader checks the revision every ``broadcast.sync_interval_s`` and
reconciles its jobs with the definitions (add, reschedule, remove). Unchanged jobs are left
alone, so a job whose run time passed while no scheduler was running keeps its stored
next_run_time and still fires on start-up within ``broadcast.misfire_grace_s``.

A fired job only starts a run (broadcasts.runs.start_run): a record plus a dispatch job with a
deterministic id, never the sending itself.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import datetime
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler

from broadcasts import store
from broadcasts.model import ACTIVE, TZ, BroadcastError, run_slot, trigger_for
from broadcasts.runs import start_run
from config import Config
from scheduler.process import on_build
from store.redis import RedisClient
from telemetry import metrics

log = logging.getLogger(__name__)

JOB_PREFIX = "broadcast:"

# Jobs in the Redis store are pickled by reference with plain arguments (the broadcast id), so
# they cannot carry a connection; the leader's config and client are kept here when it builds.
_RUNTIME: dict[str, Any] = {}


@on_build
def install(scheduler: BaseScheduler, config: Config, redis: RedisClient) -> None:
    _RUNTIME.update(config=config, redis=redis)
    state: dict[str, Any] = {"revision": None}
    scheduler.add_job(sync, "interval", seconds=config.broadcast.sync_interval_s,
                      args=[scheduler, config, redis, state], id="broadcasts.sync",
                      jobstore="memory", replace_existing=True, next_run_time=datetime.now(TZ))


def sync(scheduler: BaseScheduler, config: Config, redis: RedisClient,
         state: dict[str, Any]) -> None:
    """Reconcile when a definition changed since the last look (and once at start-up)."""
    current = store.revision(redis)
    if current == state["revision"]:
        return
    reconcile(scheduler, config, redis)
    state["revision"] = current


def reconcile(scheduler: BaseScheduler, config: Config, redis: RedisClient) -> None:
    jobs = {job.id: job for job in scheduler.get_jobs(jobstore="default")
            if job.id.startswith(JOB_PREFIX)}
    applied = store.applied_revs(redis)
    for broadcast in store.all_broadcasts(redis):
        job_id = JOB_PREFIX + broadcast.id
        job = jobs.pop(job_id, None)
        rev = str(broadcast.rev)
        if broadcast.status != ACTIVE:
            if job is not None:
                _remove(scheduler, job_id)
            continue
        if job is not None and job.name == rev:
            continue
        if job is None and applied.get(broadcast.id) == rev:
            continue  # it ran out (a one-off fired, or past its end date): not to be re-added
        try:
            trigger = trigger_for(broadcast.schedule)
        except BroadcastError:
            log.exception("broadcast %s: bad schedule, not scheduled", broadcast.id)
            continue
        scheduler.add_job(fire, trigger=trigger, args=[broadcast.id], id=job_id, name=rev,
                          jobstore="default", replace_existing=True, coalesce=True,
                          max_instances=1, misfire_grace_time=config.broadcast.misfire_grace_s)
        store.mark_applied(redis, broadcast.id, broadcast.rev)
        log.info("broadcast %s: scheduled (rev %s)", broadcast.id, rev)
    for job_id in jobs:  # definitions deleted outright
        _remove(scheduler, job_id)


def _remove(scheduler: BaseScheduler, job_id: str) -> None:
    with contextlib.suppress(JobLookupError):  # fired its last time meanwhile
        scheduler.remove_job(job_id, jobstore="default")


def fire(broadcast_id: str) -> None:
    """The job function APScheduler calls (by reference ``scheduler.broadcasts:fire``)."""
    fire_broadcast(_RUNTIME["config"], _RUNTIME["redis"], broadcast_id, time.time())


def fire_broadcast(config: Config, redis: RedisClient, broadcast_id: str,
                   now: float) -> str | None:
    broadcast = store.get(redis, broadcast_id)
    if broadcast is None or broadcast.status != ACTIVE:
        return None  # paused or cancelled after the job was due, before the next reconcile
    slot = run_slot(broadcast.schedule, now, config.broadcast.misfire_grace_s)
    if slot is None:
        log.warning("broadcast %s fired outside any run slot; ignored", broadcast_id)
        return None
    metrics.BROADCAST_FIRES.inc()
    return start_run(config, redis, broadcast_id, slot, now)
