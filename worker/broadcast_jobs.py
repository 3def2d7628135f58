"""The BROADCASTS queue's job: dispatch one broadcast run (broadcasts.dispatch)."""

from __future__ import annotations

from broadcasts.dispatch import Dispatcher
from broadcasts.runs import DISPATCH_JOB
from store import keys
from store.streams import GROUP, Job
from worker.jobs import WorkerContext, job
from worker.queues import BROADCASTS


@job(DISPATCH_JOB)
def dispatch(job_: Job, ctx: WorkerContext) -> None:
    def keep_alive() -> None:
        # A million-follower run outlasts queue.reclaim_idle_s; re-claiming our own entry with
        # JUSTID resets its idle time (without counting a delivery), so no other worker takes
        # it over while we are still sending. If we die, it goes idle and is reclaimed.
        ctx.redis.xclaim(keys.queue_stream(BROADCASTS), GROUP, f"dispatch:{job_.job_id}", 0,
                         [job_.entry_id], justid=True)

    Dispatcher(ctx.config, ctx.redis, ctx.wechat, ctx.library, clock=ctx.clock,
               keep_alive=keep_alive).dispatch(job_.payload["run_id"])
