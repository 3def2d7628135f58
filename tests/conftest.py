"""Shared fixtures: real Redis (standalone and 3-master cluster), config, app, sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
from hypothesis import HealthCheck, settings

from config import EXAMPLE_CONFIG, Config, load_config
from intel.risklist import risk_key
from tests import servers
from tests.staff import sign_in

# CI is a loaded 2-core box: generation speed and per-example time say nothing about our code,
# so neither may fail a property test (each test still sets its own example count).
settings.register_profile("ci", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("ci")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, port = servers.start_redis(tmp_path_factory.mktemp("redis"))
    yield f"redis://127.0.0.1:{port}/0"
    servers.stop([proc])


@pytest.fixture
def redis(redis_url: str) -> Iterator[redis_lib.Redis]:
    """A real standalone Redis, emptied before each test."""
    client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def cluster_ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    procs, ports = servers.start_cluster(tmp_path_factory.mktemp("cluster"))
    yield ports
    servers.stop(procs)


@pytest.fixture
def cluster_redis(cluster_ports: list[int]) -> Iterator[redis_lib.RedisCluster]:
    """A real 3-master Redis Cluster: a cross-slot multi-key operation fails here."""
    client = redis_lib.RedisCluster(host="127.0.0.1", port=cluster_ports[0],
                                    decode_responses=True)
    for port in cluster_ports:
        redis_lib.Redis(port=port).flushall()
    yield client
    client.close()


def make_config(redis_url: str = "", **sections: dict) -> Config:
    """The demo config (published demo secrets) with test overrides."""
    base = load_config(EXAMPLE_CONFIG, environ={}, demo=True)
    merged: dict[str, dict] = {"redis": {"url": redis_url}}
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    return base.replace(**merged)


# The risk list's digest key under the test config (what the app and worker derive from it).
RISK_KEY = risk_key(make_config().privacy)


@pytest.fixture
def config(redis_url: str) -> Config:
    return make_config(redis_url)


@pytest.fixture
def app(config: Config, redis: redis_lib.Redis):
    from app import create_app

    application = create_app(config, redis)
    application.testing = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def login_as(client):
    """Log the test client in as staff (session + CSRF header set directly, no argon2 cost).

    ``login_as("officer", station="s1")`` returns the client; every later request carries the
    session's CSRF token in ``X-CSRF-Token``, as the console's JavaScript does.
    """
    def login(role: str, station: str = "", username: str | None = None):
        return sign_in(client, role, station, username)
    return login
