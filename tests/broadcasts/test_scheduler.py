"""Broadcast schedules in the scheduler process: fire, survive restarts, one leader, pause."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from broadcasts import store
from broadcasts.model import TZ, Broadcast
from scheduler.process import run_scheduler
from store import keys
from store.streams import DurableQueue
from tests.conftest import make_config
from tests.waiting import wait_for_clock, wait_until
from worker.queues import BROADCASTS


class Schedulers:
    def __init__(self, config: Any, redis: Any) -> None:
        self.config, self.redis = config, redis
        self.running: list[tuple[threading.Event, threading.Thread]] = []

    def start(self) -> threading.Event:
        stop = threading.Event()
        thread = threading.Thread(target=run_scheduler, args=(self.config, self.redis, stop),
                                  daemon=True)
        thread.start()
        self.running.append((stop, thread))
        return stop

    def stop(self, stop: threading.Event) -> None:
        for event, thread in self.running:
            if event is stop:
                event.set()
                thread.join(timeout=10)

    def stop_all(self) -> None:
        for event, thread in self.running:
            event.set()
            thread.join(timeout=10)


@pytest.fixture
def schedulers(redis_url: str, redis: Any) -> Iterator[Schedulers]:
    config = make_config(redis_url, broadcast={"sync_interval_s": 0.1, "misfire_grace_s": 60})
    group = Schedulers(config, redis)
    yield group
    group.stop_all()


def _broadcast(redis: Any, at_s: float) -> Broadcast:
    at = datetime.fromtimestamp(at_s, TZ).isoformat()
    return store.save(redis, Broadcast(id=store.new_broadcast_id(), title="周一提醒",
                                       articles=("shuadan-basics",), audience={"kind": "all"},
                                       schedule={"kind": "once", "at": at}))


def _runs(redis: Any, broadcast: Broadcast) -> list[dict[str, Any]]:
    return store.list_runs(redis, broadcast.id)


def _is_stored(redis: Any, broadcast: Broadcast) -> bool:
    return bool(redis.hexists(keys.scheduler_jobs(), "broadcast:" + broadcast.id))


def test_scheduled_broadcast_enqueues_a_dispatch_for_its_slot(schedulers: Schedulers) -> None:
    redis = schedulers.redis
    at = int(time.time()) + 2
    broadcast = _broadcast(redis, at)
    schedulers.start()
    wait_until(lambda: _runs(redis, broadcast))
    [run] = _runs(redis, broadcast)
    assert run["run_id"] == f"{broadcast.id}-{at}" and run["status"] == "queued"
    # The run is recorded a moment before its dispatch job is queued.
    wait_until(lambda: DurableQueue(redis, BROADCASTS).depth() == 1, what="the dispatch job")


def _scheduler_running(schedulers: Schedulers) -> threading.Event:
    """Start a scheduler; return once every definition saved before has been reconciled.

    A pass reads all definitions when it begins. The second marker is saved after the first
    was stored, so the pass that stores it began after an earlier pass had ended: that one had
    seen everything saved before the start."""
    redis = schedulers.redis
    first = _broadcast(redis, time.time() + 3600)
    stop = schedulers.start()
    wait_until(lambda: _is_stored(redis, first), what="the scheduler syncing")
    second = _broadcast(redis, time.time() + 3600)
    wait_until(lambda: _is_stored(redis, second), what="a later sync pass")
    return stop


def test_schedule_survives_a_restart_and_a_missed_time_within_grace_still_runs(
        schedulers: Schedulers) -> None:
    redis = schedulers.redis
    first = _scheduler_running(schedulers)
    # Saved to a running scheduler, stored within a sync interval (0.1 s), and the scheduler is
    # stopped at once: the 3 s to the run time are a margin, not a wait.
    at = time.time() + 3
    broadcast = _broadcast(redis, at)
    wait_until(lambda: _is_stored(redis, broadcast), what="the schedule stored")
    schedulers.stop(first)
    wait_for_clock(at)  # the run time passes while no scheduler runs
    assert _runs(redis, broadcast) == [] and _is_stored(redis, broadcast)
    schedulers.start()
    wait_until(lambda: _runs(redis, broadcast), what="the missed run started")
    assert len(_runs(redis, broadcast)) == 1


def test_two_scheduler_processes_fire_a_schedule_once(schedulers: Schedulers) -> None:
    redis = schedulers.redis
    fired_before = REGISTRY.get_sample_value("endfraud_broadcast_fires_total") or 0.0
    broadcast = _broadcast(redis, time.time() + 2)
    schedulers.start()
    schedulers.start()
    wait_until(lambda: _runs(redis, broadcast), what="the run started")
    # A fired one-off leaves the shared job store: no scheduler can fire it again after this.
    wait_until(lambda: not _is_stored(redis, broadcast), what="the fired job removed")
    # Both schedulers run in this process, so this one counter sees every fire of either.
    assert REGISTRY.get_sample_value("endfraud_broadcast_fires_total") == fired_before + 1
    assert len(_runs(redis, broadcast)) == 1


def test_paused_broadcast_does_not_fire(schedulers: Schedulers) -> None:
    redis = schedulers.redis
    at = time.time() + 2
    broadcast = _broadcast(redis, at)
    later = _broadcast(redis, at + 0.5)  # active, due just after: shows the time has been handled
    schedulers.start()
    wait_until(lambda: _is_stored(redis, broadcast), what="the schedule stored")
    store.save(redis, broadcast.edited(status="paused"))
    wait_until(lambda: not _is_stored(redis, broadcast), what="the paused schedule removed")
    wait_until(lambda: _runs(redis, later), what="the later broadcast's run")
    assert _runs(redis, broadcast) == []


def test_cancelled_broadcast_leaves_the_job_store(schedulers: Schedulers) -> None:
    redis = schedulers.redis
    broadcast = _broadcast(redis, time.time() + 3600)
    schedulers.start()
    wait_until(lambda: _is_stored(redis, broadcast))
    store.save(redis, broadcast.edited(status="cancelled"))
    wait_until(lambda: not _is_stored(redis, broadcast))


def test_resumed_broadcast_is_scheduled_again(schedulers: Schedulers) -> None:
    redis = schedulers.redis
    broadcast = store.save(redis, _broadcast(redis, time.time() + 3600).edited(status="paused"))
    _scheduler_running(schedulers)  # its first reconcile saw the paused one too
    assert not _is_stored(redis, broadcast)
    store.save(redis, broadcast.edited(status="active"))
    wait_until(lambda: _is_stored(redis, broadcast), what="the resumed schedule stored")


def test_edited_schedule_replaces_the_stored_job(schedulers: Schedulers) -> None:
    redis = schedulers.redis
    broadcast = _broadcast(redis, time.time() + 3600)
    schedulers.start()
    wait_until(lambda: _is_stored(redis, broadcast))
    soon = int(time.time()) + 2
    store.save(redis, broadcast.edited(
        schedule={"kind": "once", "at": datetime.fromtimestamp(soon, TZ).isoformat()}))
    wait_until(lambda: _runs(redis, broadcast))
    assert _runs(redis, broadcast)[0]["run_id"] == f"{broadcast.id}-{soon}"
