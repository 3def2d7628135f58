"""A live warning pipeline for tests: the app and the WeChat simulator on real sockets (so
TEMPLATESENDJOBFINISH callbacks reach our webhook), real Redis, and a worker run in-process
job by job, so a test can stop between steps the way a crash would."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from werkzeug.serving import BaseWSGIServer

from alerts.signing import signed_headers
from config import Config
from sandbox.client import SandboxClient
from store.followers import FollowerDirectory
from store.phones import PhoneVault
from store.streams import DurableQueue, process
from tests.conftest import make_config
from tests.servers import free_port, serve_wsgi
from tests.waiting import DEFAULT_TIMEOUT_S, wait_until
from worker.jobs import WorkerContext, run_job
from worker.process import load_job_modules
from worker.queues import WARNINGS

SOURCE = "demo-platform"
SOURCE_KEY = "demo-alert-source-key-not-for-production"


def alert_body(alert_id: str, phone: str = "13800138000", **overrides: Any) -> dict[str, Any]:
    body = {"alert_id": alert_id, "phone": phone, "fraud_type": "police", "channel": "call",
            "counterpart": "+85261234567", "risk_level": "medium",
            "detected_at": time.time() - 1, "source": SOURCE}
    body.update(overrides)
    return body


def sign(body: Any, now: float | None = None, nonce: str | None = None,
         key: str = SOURCE_KEY, source: str = SOURCE) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, signed_headers(source, key, raw, time.time() if now is None else now,
                               nonce or secrets.token_hex(8))


def _serve(app: Any, port: int) -> BaseWSGIServer:
    return serve_wsgi(app, port)[0]


def live_config(redis_url: str, app_port: int, sbx_port: int, **sections: dict) -> Config:
    sandbox_url = f"http://127.0.0.1:{sbx_port}/"
    base: dict[str, dict] = {
        "service": {"public_url": f"http://127.0.0.1:{app_port}"},
        "wechat": {"api_base_url": sandbox_url, "timeout_s": 1.0},
        "sandbox": {"port": sbx_port, "callback_delay_ms": 10},
        "sms": {"provider": "sandbox", "sandbox_url": sandbox_url, "timeout_s": 2.0},
        "queue": {"reclaim_idle_s": 0, "block_ms": 10, "max_deliveries": 5},
        "alerts": {"unconfirmed_resend_s": 1, "retry_backoff_ms": 10},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return make_config(redis_url, **base)


@dataclass
class Live:
    config: Config
    redis: Any
    sbx: SandboxClient
    app_url: str
    ctx: WorkerContext

    @property
    def queue(self) -> DurableQueue:
        return DurableQueue(self.redis, WARNINGS, self.config.queue)

    @property
    def directory(self) -> FollowerDirectory:
        return FollowerDirectory(self.redis, PhoneVault.from_config(self.config.privacy))

    def follower(self, phone: str | None = None, scene: str | None = None,
                 guards: str | None = None) -> str:
        openid = self.sbx.new_citizen()
        self.sbx.follow(openid, scene=scene)
        if phone:
            self.directory.bind_own_phone(openid, phone)
            self.sbx.claim_phone(openid, phone)
        if guards:
            self.directory.guard_phone(openid, guards)
        return openid

    def post(self, body: Any, **sign_kwargs: Any) -> requests.Response:
        raw, headers = sign(body, **sign_kwargs)
        return requests.post(self.app_url + "/api/v1/alerts", data=raw, headers=headers,
                             timeout=10)

    def run_jobs(self, handle: Callable[[Any], None] | None = None, rounds: int = 20) -> int:
        """Run queued warning jobs (new ones only) until the stream is empty."""
        queue = self.queue
        queue.ensure_group()
        done = 0
        for _ in range(rounds):
            jobs = queue.read("test-worker", count=50, block_ms=0)
            if not jobs:
                break
            for job in jobs:
                process(queue, job, handle or (lambda j: run_job(j, self.ctx)))
                done += 1
        return done

    def reclaim_jobs(self) -> int:
        """What another worker does later: take over jobs left pending, and run them."""
        queue = self.queue
        queue.ensure_group()
        done = 0
        for job in queue.reclaim("rescuer", count=50):
            process(queue, job, lambda j: run_job(j, self.ctx))
            done += 1
        return done + self.run_jobs()

    def templates(self, openid: str | None = None) -> list[dict[str, Any]]:
        return self.sbx.messages(openid, kind="template")

    def wait_for(self, predicate: Callable[[], Any], timeout_s: float = DEFAULT_TIMEOUT_S,
                 what: str = "") -> Any:
        return wait_until(predicate, timeout_s, what)


@contextlib.contextmanager
def start_live(redis: Any, redis_url: str, **overrides: dict) -> Iterator[Live]:
    from app import create_app
    from sandbox.server import create_app as create_sandbox

    app_port, sbx_port = free_port(), free_port()
    config = live_config(redis_url, app_port, sbx_port, **overrides)
    app = create_app(config, redis)
    sandbox_app = create_sandbox(config, webhook_url=f"http://127.0.0.1:{app_port}/wechat")
    servers = [_serve(app, app_port), _serve(sandbox_app, sbx_port)]
    load_job_modules()
    ctx = WorkerContext(config=config, redis=redis)
    try:
        yield Live(config, redis, SandboxClient(f"http://127.0.0.1:{sbx_port}/"),
                   f"http://127.0.0.1:{app_port}", ctx)
    finally:
        sandbox_app.extensions["sandbox"].webhook.close()
        for server in servers:
            server.shutdown()


@pytest.fixture
def live(redis: Any, redis_url: str) -> Iterator[Live]:
    with start_live(redis, redis_url) as env:
        yield env
