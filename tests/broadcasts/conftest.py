"""Broadcast fixtures: the simulator and our own app on real sockets, wired to each other.

The simulator posts MASSSENDJOBFINISH to our real webhook, so run reports are filled the way
production fills them; dispatchers call the simulator through bot.wechat.make_client.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from broadcasts import store as bc_store
from broadcasts.dispatch import Dispatcher
from broadcasts.model import Broadcast
from broadcasts.runs import start_run
from config import Config
from content.store import effective_library
from sandbox.client import SandboxClient
from sandbox.server import create_app as create_sandbox
from store.followers import Follower, FollowerDirectory
from store.phones import PhoneVault
from tests import servers
from tests.conftest import make_config
from tests.servers import serve_wsgi as serve


@dataclass
class BroadcastEnv:
    config: Config
    redis: Any
    sandbox: SandboxClient
    sandbox_url: str

    def directory(self) -> FollowerDirectory:
        return FollowerDirectory(self.redis, PhoneVault.from_config(self.config.privacy))

    def followers(self, count: int, community: str = "c1", officer: str = "o1",
                  active_at: float | None = None, openids_wanted: list[str] | None = None
                  ) -> list[str]:
        """Citizens who follow in the simulator, recorded in our directory with an area;
        ``openids_wanted`` picks their openids (else the simulator makes random ones)."""
        openids = []
        for index in range(count):
            openid = self.sandbox.new_citizen(openids_wanted[index] if openids_wanted else None)
            self.sandbox.follow(openid)
            openids.append(openid)
        directory = self.directory()
        for openid in openids:
            directory.save(Follower(openid, True, int(time.time()), officer, community, ""))
            if active_at is not None:
                directory.touch(openid, active_at)
        return openids

    def broadcast(self, audience: dict[str, Any] | None = None, delivery: str = "mass",
                  schedule: dict[str, Any] | None = None) -> Broadcast:
        library = effective_library(self.redis)
        article = next(iter(library.articles_by_id))
        return bc_store.save(self.redis, Broadcast(
            id=bc_store.new_broadcast_id(), title="反诈宣传", articles=(article,),
            audience=audience or {"kind": "all"},
            schedule=schedule or {"kind": "once", "at": "2030-01-01T09:00:00+08:00"},
            delivery=delivery, created_ms=int(time.time() * 1000)))

    def start(self, broadcast: Broadcast, slot_s: float | None = None) -> str:
        now = time.time()
        return start_run(self.config, self.redis, broadcast.id, slot_s or now, now)

    def dispatcher(self, **overrides: Any) -> Dispatcher:
        from bot.wechat import make_client

        config = self.config.replace(broadcast=overrides) if overrides else self.config
        return Dispatcher(config, self.redis, make_client(config, self.redis),
                          effective_library(self.redis))

    def mass_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.sandbox.messages(kind="mass") if not m["payload"].get("preview")]


@pytest.fixture
def bc_env(redis_url: str, redis: Any) -> Iterator[BroadcastEnv]:
    sandbox_port = servers.free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}/"
    config = make_config(redis_url, wechat={"api_base_url": sandbox_url},
                         sandbox={"callback_delay_ms": 10},
                         broadcast={"mass_calls_per_s": 1000, "custom_per_s": 1000})
    from app import create_app

    app = create_app(config, redis)
    app_server, app_url = serve(app)
    sandbox_app = create_sandbox(config, webhook_url=app_url + "wechat")
    sandbox_server, _ = serve(sandbox_app, sandbox_port)
    yield BroadcastEnv(config, redis, SandboxClient(sandbox_url), sandbox_url)
    sandbox_app.extensions["sandbox"].webhook.close()
    sandbox_server.shutdown()
    app_server.shutdown()
