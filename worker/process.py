"""The worker process (``endfraud worker``): one consumer thread per durable queue.

Threads are fine here: this is a separate process from the web server, and each thread blocks on
its own XREADGROUP. Several worker processes, on one machine or many, share the work through the
consumer group; a killed one's jobs are reclaimed by the others.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import time
from dataclasses import dataclass

from config import Config
from store import health
from store.redis import RedisClient
from store.streams import DurableQueue, Progress, consume, default_consumer_name
from worker.jobs import WorkerContext, run_job
from worker.queues import ALL_QUEUES

log = logging.getLogger(__name__)

# Modules whose @job handlers the worker runs; features add theirs here.
JOB_MODULES: tuple[str, ...] = ("worker.bot_jobs", "registration.jobs",
                               "worker.broadcast_jobs", "worker.warning_jobs",
                               "worker.screenshot_jobs")


def load_job_modules() -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)


@dataclass
class Consumer:
    """One consumer thread of this worker and how far its loop has got."""

    name: str  # "<worker>/<queue>", as reported in health:{hb}:consumers
    thread: threading.Thread
    progress: Progress

    def is_healthy(self, stuck_s: float) -> bool:
        return consumer_is_healthy(self.thread.is_alive(), self.progress.idle_s(), stuck_s)


def consumer_is_healthy(alive: bool, idle_s: float, stuck_s: float) -> bool:
    """Dead threads and loops idle past ``stuck_s`` (a hung job or call) are not (pure)."""
    return alive and idle_s <= stuck_s


def run_worker(config: Config, redis: RedisClient, stop: threading.Event | None = None,
               queues: tuple[str, ...] = ALL_QUEUES, beat_every_s: float = 5.0) -> None:
    stop = stop or threading.Event()
    load_job_modules()
    ctx = WorkerContext(config=config, redis=redis)
    name = default_consumer_name()
    consumers = []
    for queue_name in queues:
        queue = DurableQueue(redis, queue_name, config.queue)
        progress = Progress()
        thread = threading.Thread(
            target=consume, name=f"consume-{queue_name}", daemon=True,
            args=(queue, lambda job: run_job(job, ctx), stop, f"{name}:{queue_name}"),
            kwargs={"progress": progress},
        )
        thread.start()
        consumers.append(Consumer(f"{name}/{queue_name}", thread, progress))
    log.info("worker %s consuming %s", name, ", ".join(queues))
    while not stop.is_set():
        reports = [(c.name, c.is_healthy(config.queue.consumer_stuck_s)) for c in consumers]
        for consumer_name, healthy in reports:
            if not healthy:
                log.error("worker: consumer %s is dead or stuck", consumer_name)
        try:
            health.beat(redis, "worker")
            health.report_consumers(redis, reports, int(time.time() * 1000))
        except Exception:  # noqa: BLE001 - cluster errors are not RedisError; keep beating
            log.warning("worker: heartbeat failed (redis down?)")
        stop.wait(beat_every_s)
    for consumer in consumers:
        consumer.thread.join(timeout=5)
    try:
        health.forget_consumers(redis, [c.name for c in consumers])
    except Exception:  # noqa: BLE001 - shutting down either way
        log.warning("worker: could not remove its consumer reports")


def install_signal_handlers(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
