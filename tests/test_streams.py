"""The durable queue: nothing accepted is lost, a crashed worker's job is reclaimed, poison dies."""

from __future__ import annotations

import threading

from config import QueueConfig
from store.streams import GROUP, DurableQueue, PermanentJobError, consume, process
from tests.waiting import wait_until


def make_queue(redis, **overrides) -> DurableQueue:
    cfg = QueueConfig(**({"reclaim_idle_s": 0, "max_deliveries": 3, "block_ms": 50} | overrides))
    queue = DurableQueue(redis, "test", cfg)
    queue.ensure_group()
    return queue


def test_enqueue_with_the_same_job_id_twice_queues_once(redis):
    queue = make_queue(redis)
    assert queue.enqueue("t", {"n": 1}, job_id="alert-1") is True
    assert queue.enqueue("t", {"n": 1}, job_id="alert-1") is False
    assert len(queue.read("c1")) == 1


def test_a_job_read_by_a_crashed_worker_is_reclaimed_by_another(redis):
    queue = make_queue(redis)
    queue.enqueue("t", {"n": 1}, job_id="j1")
    taken = queue.read("crashed-worker")
    assert [j.job_id for j in taken] == ["j1"]
    # The crashed worker never acks; a live one reclaims it with its delivery count.
    reclaimed = queue.reclaim("live-worker")
    assert [j.job_id for j in reclaimed] == ["j1"]
    assert reclaimed[0].deliveries == 2
    assert reclaimed[0].payload == {"n": 1}


def test_acked_job_is_not_reclaimed(redis):
    queue = make_queue(redis)
    queue.enqueue("t", {}, job_id="j1")
    (job,) = queue.read("w")
    process(queue, job, lambda j: None)
    assert queue.reclaim("other") == []
    assert queue.depth() == 0


def test_failing_job_stays_pending_then_goes_to_dead_letters(redis):
    queue = make_queue(redis, max_deliveries=2)
    queue.enqueue("t", {"x": 1}, job_id="poison")

    def always_fails(job):
        raise RuntimeError("boom")

    (job,) = queue.read("w")
    process(queue, job, always_fails)
    (job,) = queue.reclaim("w")
    process(queue, job, always_fails)
    (job,) = queue.reclaim("w")
    assert job.deliveries == 3
    process(queue, job, always_fails)
    dead = queue.dead_letters()
    assert [d["job_id"] for d in dead] == ["poison"]
    assert queue.reclaim("w") == []


def test_permanent_failure_is_dead_lettered_at_once_and_can_be_retried(redis):
    queue = make_queue(redis)
    queue.enqueue("t", {"x": 1}, job_id="bad")

    def permanent(job):
        raise PermanentJobError("recipient unfollowed")

    (job,) = queue.read("w")
    process(queue, job, permanent)
    (dead,) = queue.dead_letters()
    assert dead["reason"] == "recipient unfollowed"
    assert queue.retry_dead_letter(dead["entry_id"]) is True
    assert queue.dead_letters() == []
    (retried,) = queue.read("w")
    assert retried.payload == {"x": 1}


def test_consumer_loop_processes_jobs_until_stopped(redis):
    queue = make_queue(redis)
    for i in range(20):
        queue.enqueue("t", {"i": i})
    seen = []
    stop = threading.Event()

    def handle(job):
        seen.append(job.payload["i"])
        if len(seen) == 20:
            stop.set()

    thread = threading.Thread(target=consume, args=(queue, handle, stop))
    thread.start()
    thread.join(timeout=10)
    assert sorted(seen) == list(range(20))
    assert queue.depth() == 0


def test_jobs_survive_a_redis_restart(tmp_path):
    import redis as redis_lib

    from tests import servers

    proc, port = servers.start_redis(tmp_path / "r", appendonly=True)
    client = redis_lib.Redis(port=port, decode_responses=True)
    queue = make_queue(client)
    queue.enqueue("t", {"keep": True}, job_id="durable")
    client.shutdown(nosave=False)
    proc.wait(timeout=10)
    proc, _ = servers.start_redis(tmp_path / "r", port=port, appendonly=True)
    try:
        (job,) = make_queue(client).read("w")
        assert job.payload == {"keep": True}
    finally:
        servers.stop([proc])


def test_depth_counts_waiting_and_pending_jobs(redis):
    queue = make_queue(redis)
    for i in range(5):
        queue.enqueue("t", {"i": i})
    assert queue.depth() == 5
    taken = queue.read("w", count=2)
    assert queue.depth() == 5
    for job in taken:
        queue.ack(job)
    assert queue.depth() == 3


def test_a_worker_runs_several_jobs_of_one_queue_at_once(redis):
    """Four jobs that each wait for the other three finish only if they run side by side."""
    import threading
    import time

    from config import QueueConfig
    from store.streams import DurableQueue, consume

    queue = DurableQueue(redis, "warnings", QueueConfig(block_ms=50, concurrency=4))
    queue.ensure_group()
    for i in range(4):
        queue.enqueue("t", {"i": i}, job_id=f"j{i}")
    together = threading.Barrier(4, timeout=10)
    stop = threading.Event()

    def handle(job):
        together.wait()

    thread = threading.Thread(target=consume, args=(queue, handle, stop, "c1"), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while queue.depth() and time.monotonic() < deadline:
            stop.wait(0.05)
        assert queue.depth() == 0
        assert not together.broken
    finally:
        stop.set()
        thread.join(timeout=5)


def test_finished_jobs_are_acked_with_the_next_read_not_one_round_trip_each(redis):
    queue = make_queue(redis, concurrency=4, block_ms=20)
    for n in range(60):
        queue.enqueue("t", {"n": n}, job_id=f"j{n}")
    done: list[int] = []
    stop = threading.Event()

    def handle(job):
        done.append(job.payload["n"])

    before = int(redis.info("commandstats").get("cmdstat_xack", {}).get("calls", 0))
    thread = threading.Thread(target=consume, args=(queue, handle, stop, "c1"), daemon=True)
    thread.start()
    wait_until(lambda: len(done) == 60, what="60 jobs run")
    # Acked by the loop's later reads while it runs: nothing finished stays pending for long.
    wait_until(lambda: redis.xpending(queue.stream, GROUP)["pending"] == 0,
               what="finished jobs acked")
    stop.set()
    thread.join(timeout=10)
    acks = int(redis.info("commandstats")["cmdstat_xack"]["calls"]) - before
    assert sorted(done) == list(range(60))
    assert acks < 60 / 2, f"{acks} XACK calls for 60 jobs"


def test_a_consumer_acks_what_it_finished_before_it_stops(redis):
    queue = make_queue(redis, concurrency=2, block_ms=5000)
    queue.enqueue("t", {"n": 1}, job_id="j1")
    done = threading.Event()
    stop = threading.Event()
    thread = threading.Thread(target=consume, args=(queue, lambda job: done.set(), stop, "c1"),
                              daemon=True)
    thread.start()
    done.wait(10)
    stop.set()  # the loop is blocked in a 5 s read; the finished job is acked on the way out
    thread.join(timeout=10)
    assert redis.xpending(queue.stream, GROUP)["pending"] == 0
