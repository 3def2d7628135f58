"""Registration test fixtures: the WeChat simulator on a real socket (SMS, QR codes, tags),
the app configured against it, a worker drain, and helpers to act as a citizen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from config import Config
from sandbox.client import SandboxClient
from store.followers import FollowerDirectory
from store.phones import PhoneVault
from store.streams import DurableQueue, process
from tests import wx
from tests.conftest import make_config
from tests.servers import serve_wsgi as _serve
from worker.jobs import WorkerContext, run_job
from worker.queues import BOT


@pytest.fixture(scope="session")
def simulator() -> Iterator[tuple[Any, str]]:
    from config import load_config
    from sandbox.server import create_app

    config = load_config(demo=True).replace(sandbox={"callback_delay_ms": 10})
    app = create_app(config, webhook_url="http://127.0.0.1:9/wechat")
    server, url = _serve(app)
    yield app, url
    app.extensions["sandbox"].webhook.close()
    server.shutdown()


@pytest.fixture
def sbx(simulator: tuple[Any, str]) -> SandboxClient:
    client = SandboxClient(simulator[1])
    client.reset()
    return client


@pytest.fixture
def config(redis_url: str, simulator: tuple[Any, str]) -> Config:
    url = simulator[1]
    return make_config(redis_url, wechat={"api_base_url": url},
                       sms={"provider": "sandbox", "sandbox_url": url})


@pytest.fixture
def followers(config: Config, redis: Any) -> FollowerDirectory:
    return FollowerDirectory(redis, PhoneVault.from_config(config.privacy))


class Worker:
    """Runs queued bot jobs now, through the real consumer code path."""

    def __init__(self, config: Config, redis: Any) -> None:
        import registration.jobs  # noqa: F401  (registers the job types)

        self.queue = DurableQueue(redis, BOT, config.queue)
        self.queue.ensure_group()
        self.ctx = WorkerContext(config=config, redis=redis)

    def drain(self) -> int:
        done = 0
        while True:
            jobs = self.queue.read("test-worker", count=50, block_ms=0)
            if not jobs:
                return done
            for job in jobs:
                process(self.queue, job, lambda j: run_job(j, self.ctx))
                done += 1


@pytest.fixture
def worker(config: Config, redis: Any) -> Worker:
    return Worker(config, redis)


class Citizen:
    """One follower talking to the app's webhook with real signed, encrypted XML."""

    def __init__(self, client: Any, config: Config, openid: str) -> None:
        self.client, self.config, self.openid = client, config, openid

    def send(self, text: str) -> str | None:
        return wx.reply_text(self.config, wx.post(self.client, self.config,
                                                  wx.text_xml(self.openid, text)))

    def event(self, event: str, key: str | None = None, **extra: str) -> str | None:
        response = wx.post(self.client, self.config, wx.event_xml(self.openid, event, key,
                                                                  None, **extra))
        assert response.status_code == 200
        return wx.reply_text(self.config, response)

    def follow(self, scene: str | None = None) -> str | None:
        if scene is None:
            return self.event("subscribe", "")
        return self.event("subscribe", f"qrscene_{scene}", Ticket="t")

    def click(self, key: str) -> str | None:
        return self.event("CLICK", key)


@pytest.fixture
def citizen(client: Any, config: Config) -> Citizen:
    return Citizen(client, config, "oCitizenAAAAAAAAAAAAAAAAAAAA")


@pytest.fixture
def make_citizen(client: Any, config: Config) -> Any:
    def make(openid: str) -> Citizen:
        return Citizen(client, config, openid)
    return make


def last_code(sbx: SandboxClient, phone: str) -> str:
    """The newest one-time code the simulated phone of ``phone`` received."""
    texts = [m["payload"]["text"] for m in sbx.messages(kind="sms")
             if m["payload"]["phone"] == phone]
    assert texts, f"no SMS to {phone}"
    found = re.search(r"(\d{6})", texts[-1])
    assert found
    return found.group(1)


def sms_count(sbx: SandboxClient, phone: str | None = None) -> int:
    return sum(1 for m in sbx.messages(kind="sms")
               if phone is None or m["payload"]["phone"] == phone)


@pytest.fixture
def live_app(app: Any, simulator: tuple[Any, str]) -> Iterator[str]:
    """The app on a real socket, with the simulator's callbacks pointed at its webhook."""
    server, url = _serve(app)
    hook = simulator[0].extensions["sandbox"].webhook
    previous = hook.url
    hook.url = url + "wechat"
    yield url
    hook.url = previous
    server.shutdown()
