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

from config import Config
from store import health
from store.redis import RedisClient
from store.streams import DurableQueue, consume, default_consumer_name
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


def run_worker(config: Config, redis: RedisClient, stop: threading.Event | None = None,
               queues: tuple[str, ...] = ALL_QUEUES) -> None:
    stop = stop or threading.Event()
    load_job_modules()
    ctx = WorkerContext(config=config, redis=redis)
    name = default_consumer_name()
    threads = []
    for queue_name in queues:
        queue = DurableQueue(redis, queue_name, config.queue)
        thread = threading.Thread(
            target=consume, name=f"consume-{queue_name}", daemon=True,
            args=(queue, lambda job: run_job(job, ctx), stop, f"{name}:{queue_name}"),
        )
        thread.start()
        threads.append(thread)
    log.info("worker %s consuming %s", name, ", ".join(queues))
    while not stop.is_set():
        try:
            health.beat(redis, "worker")
        except Exception:
            log.warning("worker: heartbeat failed (redis down?)")
        stop.wait(5.0)
    for thread in threads:
        thread.join(timeout=5)


def install_signal_handlers(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
