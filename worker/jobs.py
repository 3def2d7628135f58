"""Job handlers, registered by job type; the worker process dispatches stream entries to them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from config import Config
from store.redis import RedisClient
from store.streams import Job, PermanentJobError

if TYPE_CHECKING:
    from alerts.delivery import Deliverer

JobFunction = Callable[[Job, "WorkerContext"], None]

JOB_TYPES: dict[str, JobFunction] = {}


def job(job_type: str) -> Callable[[JobFunction], JobFunction]:
    def register(fn: JobFunction) -> JobFunction:
        if job_type in JOB_TYPES:
            raise ValueError(f"job type {job_type!r} registered twice")
        JOB_TYPES[job_type] = fn
        return fn
    return register


@dataclass
class WorkerContext:
    config: Config
    redis: RedisClient
    clock: Callable[[], float] = field(default=time.time)

    @cached_property
    def wechat(self) -> Any:
        from bot.wechat import make_client

        return make_client(self.config, self.redis)

    @cached_property
    def library(self) -> Any:
        from content.store import effective_library

        return effective_library(self.redis)

    @cached_property
    def deliverer(self) -> Deliverer:
        """One per worker, shared by its job threads (it keeps no per-send state): building
        it registers scripts and derives keys, which every warning would otherwise pay for."""
        from alerts.delivery import Deliverer

        # Through a lambda, so a clock set on the context later (tests do) is the one used.
        return Deliverer(self.config, self.redis, self.wechat, self.library,
                         clock=lambda: self.clock())


def run_job(job_: Job, ctx: WorkerContext) -> None:
    fn = JOB_TYPES.get(job_.type)
    if fn is None:
        raise PermanentJobError(f"unknown job type {job_.type!r}")
    fn(job_, ctx)
