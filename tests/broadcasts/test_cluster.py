"""Every multi-key broadcast operation on a real 3-master Redis Cluster."""

from __future__ import annotations

import time
from typing import Any

from broadcasts import quota, store
from broadcasts.audience import Audience, iter_members
from broadcasts.model import Broadcast, month_key
from broadcasts.throttle import wait_for_slot
from store import keys
from store.followers import Follower, FollowerDirectory


def _run(redis: Any) -> str:
    store.create_run(redis, "bx-1", "bx", 1_900_000_000, time.time())
    return "bx-1"


def test_saving_a_definition_bumps_the_revision_on_a_cluster(cluster_redis: Any) -> None:
    store.save(cluster_redis, Broadcast("bx", "t", ("a",), {"kind": "all"},
                                        {"kind": "once", "at": "2030-01-01T09:00:00+08:00"}))
    assert store.revision(cluster_redis) == 1 and store.get(cluster_redis, "bx") is not None


def test_confirming_a_batch_moves_the_cursor_on_a_cluster(cluster_redis: Any) -> None:
    run_id = _run(cluster_redis)
    store.begin_batch(cluster_redis, run_id, 0, (0, 0), (5, 2), 2)
    store.confirm_batch(cluster_redis, run_id, 0, (5, 2), 1001, 2, False)
    run = store.get_run(cluster_redis, run_id) or {}
    assert run["cursor"] == [5, 2] and run["inflight"] is None and run["batches_sent"] == 1


def test_a_finish_event_is_counted_once_on_a_cluster(cluster_redis: Any) -> None:
    run_id = _run(cluster_redis)
    store.confirm_batch(cluster_redis, run_id, 0, (1, 0), 1002, 2, False)
    counts = {"total_count": 2, "filter_count": 2, "sent_count": 2, "error_count": 0}
    assert store.record_finish(cluster_redis, 1002, counts) == run_id
    store.record_finish(cluster_redis, 1002, counts)
    run = store.get_run(cluster_redis, run_id) or {}
    assert (run["sent_count"], run["finish_events"]) == (2, 1)


def test_a_finish_event_before_its_batch_is_recorded_is_counted_later(cluster_redis: Any) -> None:
    run_id = _run(cluster_redis)
    counts = {"total_count": 3, "filter_count": 3, "sent_count": 3, "error_count": 0}
    assert store.record_finish(cluster_redis, 1003, counts) is None
    store.confirm_batch(cluster_redis, run_id, 0, (1, 0), 1003, 3, False)
    assert (store.get_run(cluster_redis, run_id) or {})["sent_count"] == 3


def test_an_early_finish_event_is_counted_once_however_often_its_batch_is_confirmed(
        cluster_redis: Any) -> None:
    # A dispatcher killed inside confirm_batch leaves the batch in flight; the resumed one gets
    # the same msg_id back (45065) and confirms it again. The early event is counted once.
    run_id = _run(cluster_redis)
    counts = {"total_count": 4, "filter_count": 4, "sent_count": 4, "error_count": 0}
    assert store.record_finish(cluster_redis, 1004, counts) is None
    store.confirm_batch(cluster_redis, run_id, 0, (1, 0), 1004, 4, False)
    store.confirm_batch(cluster_redis, run_id, 0, (1, 0), 1004, 4, True)
    assert store.record_finish(cluster_redis, 1004, counts) == run_id
    run = store.get_run(cluster_redis, run_id) or {}
    assert (run["sent_count"], run["finish_events"]) == (4, 1)


def test_audience_and_counters_stream_from_a_cluster(cluster_redis: Any) -> None:
    directory = FollowerDirectory(cluster_redis, None)  # type: ignore[arg-type]
    openids = [f"oCLUSTER{i:06d}" for i in range(30)]
    for openid in openids:
        directory.save(Follower(openid, True, 0, "o1", "c1", ""))
    month = month_key(time.time())
    quota.record_sent(cluster_redis, openids[:5], month, 3600)
    members = [m for _b, ms in iter_members(cluster_redis, Audience(lambda f: True), month)
               for m in ms]
    assert sorted(m.openid for m in members) == openids
    assert sum(m.mass_count for m in members) == 5
    assert sorted(f.openid for f in directory.iter_followers()) == openids


def test_rate_window_counter_works_on_a_cluster(cluster_redis: Any) -> None:
    wait_for_slot(cluster_redis, "mass", 5, clock=lambda: 1000.5)
    assert cluster_redis.get(keys.api_rate("mass", 1000)) == "1"
