"""The screenshot pipeline live: app and simulator on real sockets, real Redis, and the
SCREENSHOTS worker run in-process job by job (as tests/alerts does for warnings).

The OCR engine is a process-wide singleton, so the model loads once per test session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.client import SandboxClient
from store.streams import DurableQueue, process
from tests.alerts.conftest import start_live
from tests.waiting import DEFAULT_TIMEOUT_S, wait_until
from worker.jobs import WorkerContext, run_job
from worker.queues import SCREENSHOTS


@dataclass
class Shots:
    config: Any
    redis: Any
    sbx: SandboxClient
    ctx: WorkerContext

    @property
    def queue(self) -> DurableQueue:
        return DurableQueue(self.redis, SCREENSHOTS, self.config.queue)

    def follower(self) -> str:
        openid = self.sbx.new_citizen()
        self.sbx.follow(openid)
        return openid

    def send(self, openid: str, data: bytes) -> str:
        """Send a picture from the phone; returns the passive reply's text."""
        reply = self.sbx.send_image(openid, data)["reply"]
        assert reply is not None
        return str(reply["payload"]["content"])

    def run_jobs(self, reclaim: bool = False) -> int:
        queue = self.queue
        queue.ensure_group()
        jobs = (queue.reclaim("rescuer", count=10) if reclaim
                else queue.read("test-worker", count=10, block_ms=0))
        for job in jobs:
            process(queue, job, lambda j: run_job(j, self.ctx))
        return len(jobs)

    def answers(self, openid: str) -> list[str]:
        """Customer-service texts the citizen received."""
        return [m["payload"]["text"]["content"] for m in self.sbx.messages(openid, kind="custom")]

    def wait_for(self, predicate: Callable[[], Any], timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
        return wait_until(predicate, timeout_s)


def start_shots(redis: Any, redis_url: str, **overrides: dict) -> Any:
    import contextlib

    @contextlib.contextmanager
    def run() -> Iterator[Shots]:
        with start_live(redis, redis_url, **overrides) as live:
            yield Shots(live.config, redis, live.sbx, live.ctx)
    return run()


@pytest.fixture
def shots(redis: Any, redis_url: str) -> Iterator[Shots]:
    with start_shots(redis, redis_url) as env:
        yield env
