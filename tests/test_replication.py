"""Acknowledged means replicated: a 2xx for an alert or a staff edit only once a replica has it.

A real master and a real replica; "no replica confirms" is made by freezing the replica
(SIGSTOP): the master still counts it as connected, so WAIT times out as in a partition.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import pytest
import redis as redis_lib

from store.replication import NotReplicated, Replication
from store.streams import DurableQueue
from tests.alerts.conftest import alert_body, sign
from tests.conftest import make_config
from tests.servers import start_redis, stop
from worker.queues import WARNINGS

PHONE = "13900139000"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    base = tmp_path_factory.mktemp("replicated")
    master, master_port = start_redis(base / "master")
    replica, replica_port = start_redis(base / "replica")
    redis_lib.Redis(port=replica_port).replicaof("127.0.0.1", master_port)
    yield master, master_port, replica, replica_port
    stop([replica, master])


@pytest.fixture
def replicated(pair):
    _master, master_port, replica, replica_port = pair
    primary = redis_lib.Redis(port=master_port, decode_responses=True)
    primary.flushall()
    follower = redis_lib.Redis(port=replica_port, decode_responses=True)
    _wait_synced(primary)
    return primary, follower, replica


def _wait_synced(primary: redis_lib.Redis) -> None:
    # A fence that succeeds means the replica is connected and caught up.
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if int(primary.info("replication")["connected_slaves"]) >= 1:
                Replication(primary, 1000).fence("x")
                return
        except NotReplicated:
            pass
        time.sleep(0.05)
    raise RuntimeError("replica never caught up")


@contextlib.contextmanager
def frozen(process) -> Iterator[None]:
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


def _client(primary: redis_lib.Redis):
    from app import create_app

    port = primary.connection_pool.connection_kwargs["port"]
    config = make_config(f"redis://127.0.0.1:{port}/0", redis={"replica_wait_ms": 200})
    return create_app(config, primary).test_client(), config


def _post(client, body):
    raw, headers = sign(body)
    return client.post("/api/v1/alerts", data=raw, headers=headers)


def test_an_accepted_alert_is_already_on_the_replica(replicated):
    primary, follower, _replica = replicated
    client, config = _client(primary)
    assert _post(client, alert_body("r1", PHONE)).status_code == 202
    stream = DurableQueue(follower, WARNINGS, config.queue).stream
    assert follower.xlen(stream) == 1


def test_an_alert_no_replica_confirms_gets_503_and_its_retry_is_queued_once(replicated):
    primary, _follower, replica = replicated
    client, config = _client(primary)
    with frozen(replica):
        refused = _post(client, alert_body("r2", PHONE))
    assert refused.status_code == 503
    assert "same alert_id" in refused.get_json()["error"]
    retried = _post(client, alert_body("r2", PHONE))
    assert retried.status_code in (200, 202)
    assert primary.xlen(DurableQueue(primary, WARNINGS, config.queue).stream) == 1


def test_a_staff_edit_no_replica_confirms_gets_503(replicated, monkeypatch):
    primary, _follower, replica = replicated
    client, _config = _client(primary)
    from tests.staff import sign_in

    sign_in(client, "admin")
    with frozen(replica):
        response = client.post("/api/v1/stations", json={"name": "冻结派出所"})
    assert response.status_code == 503
    assert "not yet replicated" in response.get_json()["error"]


def test_a_staff_edit_is_on_the_replica_when_it_answers(replicated):
    primary, follower, _replica = replicated
    client, _config = _client(primary)
    from tests.staff import sign_in

    sign_in(client, "admin")
    response = client.post("/api/v1/stations", json={"name": "复制派出所"})
    assert response.status_code in (200, 201)
    assert "复制派出所" in str(follower.hgetall("reg:{dir}:stations"))


def test_writes_are_acknowledged_without_wait_where_no_replica_exists(redis):
    queue = DurableQueue(redis, WARNINGS)
    added = queue.enqueue_many("t", [("j1", {})], replication=Replication(redis, 1))
    assert added == [True]
    Replication(redis, 1).fence("x")  # returns at once: nothing to wait for
