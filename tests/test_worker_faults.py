"""A worker's consumers outlive every kind of Redis failure, and /healthz names a dead or stuck one.

Each test breaks a real redis-server the way production breaks (no mocks): out of memory
(``maxmemory 1`` with ``noeviction``), read-only (made a replica, as during a failover), MISCONF
(a background save that cannot write), and a server that stops answering (``CLIENT PAUSE`` past
the client's socket timeout). The consumer must log, back off, and carry on once Redis is back.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry

from store import health, keys
from store.streams import GROUP, DurableQueue, PermanentJobError
from tests import servers
from tests.conftest import make_config
from worker.jobs import JOB_TYPES
from worker.process import run_worker
from worker.queues import BOT

RELEASE = threading.Event()  # lets test.hold jobs finish


def _record(job: Any, ctx: Any) -> None:
    ctx.redis.sadd("test:done", job.payload["n"])


def _hold_then_fail(job: Any, ctx: Any) -> None:
    RELEASE.wait(30)
    raise PermanentJobError("refused after holding")


def _exit(job: Any, ctx: Any) -> None:
    raise SystemExit("a job that ends its thread")


JOB_TYPES.setdefault("test.record", _record)
JOB_TYPES.setdefault("test.hold_then_fail", _hold_then_fail)
JOB_TYPES.setdefault("test.exit", _exit)


def wait_for(condition: Callable[[], Any], timeout_s: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or condition}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    data_dir = tmp_path_factory.mktemp("faulty-redis")
    proc, port = servers.start_redis(data_dir)
    yield port, data_dir
    servers.stop([proc])


@pytest.fixture
def store(server: tuple[int, Path]) -> Iterator[redis_lib.Redis]:
    """The worker's client: a short socket timeout and no silent retries, so every failure
    reaches our code as it would after redis-py's retries ran out."""
    port, data_dir = server
    client = redis_lib.Redis(port=port, decode_responses=True, socket_timeout=0.5,
                             retry=Retry(NoBackoff(), 0))
    admin = redis_lib.Redis(port=port, decode_responses=True)
    admin.flushall()
    RELEASE.clear()
    yield client
    RELEASE.set()
    # Undo every fault, whatever the test got to.
    admin.execute_command("CLIENT", "UNPAUSE")
    admin.execute_command("REPLICAOF", "NO", "ONE")
    admin.config_set("maxmemory", 0)
    admin.config_set("save", "")
    admin.config_set("dir", str(data_dir))
    admin.bgsave()
    wait_for(lambda: admin.info("persistence")["rdb_last_bgsave_status"] == "ok"
             and not admin.info("persistence")["rdb_bgsave_in_progress"], what="bgsave ok")
    client.close()


@pytest.fixture
def worker(server: tuple[int, Path], store: redis_lib.Redis) -> Iterator[threading.Thread]:
    config = make_config(f"redis://127.0.0.1:{server[0]}/0",
                         queue={"block_ms": 50, "reclaim_idle_s": 1, "consumer_stuck_s": 1})
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(config, store, stop),
                              kwargs={"queues": (BOT,), "beat_every_s": 0.05}, daemon=True)
    thread.start()
    wait_for(lambda: health.consumer_report(store), what="first consumer report")
    # The heartbeat comes from the worker's main loop; the consumer thread makes the group.
    wait_for(lambda: consumer_group_ready(store), what="the consumer group")
    yield thread
    stop.set()
    RELEASE.set()
    thread.join(10)


def consumer_group_ready(client: redis_lib.Redis) -> bool:
    try:
        groups = client.xinfo_groups(keys.queue_stream(BOT))
    except redis_lib.RedisError:  # no stream yet (or a slow answer): not ready
        return False
    return any(group["name"] == GROUP for group in groups)


def enqueue(client: redis_lib.Redis, job_type: str, n: str) -> None:
    DurableQueue(client, BOT).enqueue(job_type, {"n": n}, job_id=f"{job_type}:{n}")


def processed(client: redis_lib.Redis, n: str) -> bool:
    try:
        return bool(client.sismember("test:done", n))
    except redis_lib.RedisError:
        return False


def logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in r.getMessage() for r in caplog.records)


def consumers_healthy(client: redis_lib.Redis) -> bool:
    report = health.consumer_report(client)
    return bool(report) and all(report.values()) and health.status(client)["consumers"]


def assert_consumer_carries_on(store: redis_lib.Redis, worker: threading.Thread, n: str) -> None:
    enqueue(store, "test.record", n)
    wait_for(lambda: processed(store, n), what=f"job {n} processed after the fault")
    assert worker.is_alive()
    wait_for(lambda: consumers_healthy(store), what="consumers healthy again")


def test_consumer_survives_readonly_during_a_failover(store, worker, caplog):
    caplog.set_level(logging.WARNING, logger="store.streams")
    enqueue(store, "test.record", "before")
    wait_for(lambda: processed(store, "before"))
    admin = redis_lib.Redis(port=store.connection_pool.connection_kwargs["port"])
    # A replica of a master that is not there: every write, XREADGROUP included, is READONLY.
    admin.execute_command("REPLICAOF", "127.0.0.1", str(servers.free_port()))
    wait_for(lambda: logged(caplog, "ReadOnlyError"), what="the READONLY error reached us")
    admin.execute_command("REPLICAOF", "NO", "ONE")
    assert_consumer_carries_on(store, worker, "after")


def test_consumer_survives_misconf_after_a_failed_save(store, worker, caplog, tmp_path):
    caplog.set_level(logging.WARNING, logger="store.streams")
    admin = redis_lib.Redis(port=store.connection_pool.connection_kwargs["port"],
                            decode_responses=True)
    gone = tmp_path / "gone"
    gone.mkdir()
    # Writes stop on a failed save only when save points are configured (as in production).
    admin.config_set("save", "3600 1")
    admin.config_set("dir", str(gone))
    shutil.rmtree(gone)  # the save cannot create its file: writes stop with MISCONF
    admin.bgsave()
    wait_for(lambda: admin.info("persistence")["rdb_last_bgsave_status"] == "err",
             what="bgsave failed")
    wait_for(lambda: logged(caplog, "MISCONF"), what="the MISCONF error reached us")
    admin.config_set("dir", str(tmp_path))
    admin.bgsave()
    wait_for(lambda: admin.info("persistence")["rdb_last_bgsave_status"] == "ok",
             what="bgsave ok again")
    assert_consumer_carries_on(store, worker, "after")


def test_consumer_survives_out_of_memory_while_dead_lettering(store, worker, caplog):
    caplog.set_level(logging.WARNING, logger="store.streams")
    admin = redis_lib.Redis(port=store.connection_pool.connection_kwargs["port"],
                            decode_responses=True)
    enqueue(store, "test.hold_then_fail", "h1")
    wait_for(lambda: DurableQueue(admin, BOT).depth() == 1 and
             admin.xpending(keys.queue_stream(BOT), GROUP)["pending"] == 1,
             what="the job is being held")
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", 1)
    RELEASE.set()  # the job fails permanently; moving it to the dead letters is an XADD: OOM
    wait_for(lambda: logged(caplog, "OutOfMemoryError") or logged(caplog, "OOM"),
             what="the OOM error reached us")
    admin.config_set("maxmemory", 0)
    wait_for(lambda: admin.xlen(keys.queue_dead_letters(BOT)) == 1,
             what="the job dead-lettered once memory was back")
    assert_consumer_carries_on(store, worker, "after")


def test_consumer_survives_a_server_that_stops_answering(store, worker, caplog):
    caplog.set_level(logging.WARNING, logger="store.streams")
    admin = redis_lib.Redis(port=store.connection_pool.connection_kwargs["port"])
    # Every command the consumer sends (XREADGROUP, XAUTOCLAIM, the heartbeat) is a write. The
    # pause is far longer than needed and ended as soon as the timeout is seen, so a slow box
    # cannot let it run out first; a WRITE pause, unlike ALL, lets our UNPAUSE through.
    admin.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
    wait_for(lambda: logged(caplog, "TimeoutError"), what="the timeout reached us")
    admin.execute_command("CLIENT", "UNPAUSE")
    assert_consumer_carries_on(store, worker, "after")


def test_a_stuck_consumer_turns_healthz_red_naming_it(store, worker, redis_url, server):
    from app import create_app

    enqueue(store, "test.hold_then_fail", "stuck")  # holds its thread past consumer_stuck_s
    client = create_app(make_config(f"redis://127.0.0.1:{server[0]}/0"),
                        redis_lib.Redis(port=server[0], decode_responses=True)).test_client()
    response = wait_for(lambda: (r := client.get("/healthz")).get_json()["consumers"] is False
                        and r, what="/healthz red for the consumer")
    assert response.status_code == 503
    (name, ok), = response.get_json()["consumer"].items()
    assert name.endswith(f"/{BOT}") and ok is False
    RELEASE.set()
    wait_for(lambda: client.get("/healthz").get_json()["consumers"], what="green again")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_consumer_thread_that_ends_turns_healthz_red(store, worker, server):
    enqueue(store, "test.exit", "x")
    wait_for(lambda: not health.status(store)["consumers"], what="consumers red")
    report = health.consumer_report(store)
    assert list(report.values()) == [False]


def test_backoff_doubles_from_a_tenth_of_a_second_to_five_seconds():
    from store.streams import backoff_s

    assert [backoff_s(n) for n in (1, 2, 3, 4, 10, 5000)] == [0.1, 0.2, 0.4, 0.8, 5.0, 5.0]


def test_reports_of_a_gone_worker_are_ignored_and_a_stuck_consumer_is_not_healthy():
    from worker.process import consumer_is_healthy

    now_ms = 1_700_000_000_000
    reports = {"w1/bot": f"{now_ms - 1000}:1", "w1/warnings": f"{now_ms - 1000}:0",
               "gone/bot": f"{now_ms - 60_000}:0", "junk/bot": "x:1"}
    assert health.consumer_states(reports, now_ms) == {"w1/bot": True, "w1/warnings": False}
    assert consumer_is_healthy(True, 0.5, 1) and not consumer_is_healthy(True, 1.5, 1)
    assert not consumer_is_healthy(False, 0.0, 1)
