"""Starting a run: record it and put its dispatch job on the BROADCASTS queue, both idempotent.

The run id is the broadcast id plus the scheduled time (not the moment of firing), so a second
fire of the same slot (lease hand-over between two schedulers, a restart inside the misfire
grace time) finds the run and the queue's job marker already there and adds nothing.
"""

from __future__ import annotations

from broadcasts import store
from broadcasts.model import run_id_for
from config import Config
from store.redis import RedisClient
from store.streams import DurableQueue
from telemetry import metrics
from worker.queues import BROADCASTS

DISPATCH_JOB = "broadcast.dispatch"


def start_run(config: Config, redis: RedisClient, broadcast_id: str, slot_s: float, now: float,
              trigger: str = "schedule") -> str:
    run_id = run_id_for(broadcast_id, slot_s)
    store.create_run(redis, run_id, broadcast_id, slot_s, now, trigger=trigger)
    queue = DurableQueue(redis, BROADCASTS, config.queue)
    if queue.enqueue(DISPATCH_JOB, {"run_id": run_id}, job_id=f"broadcast:{run_id}"):
        metrics.BROADCAST_RUNS_STARTED.labels(trigger=trigger).inc()
    return run_id
