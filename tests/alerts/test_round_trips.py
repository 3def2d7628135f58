"""What one warning costs the worker in Redis round trips.

Each round trip costs the worker ~60-80 µs of CPU (redis-py plus the syscalls), a large share of
a warning's budget on the 2-core box (issue 13, "Capacity of the warning path"). These tests
count the trips an ``alert.received`` job makes against a real Redis, from the job's first
command to its XACK, so that a change adding one fails here rather than in a benchmark.
"""

from __future__ import annotations

from typing import Any

from registration.directory import Officer, Station, save_officer, save_station
from store import keys
from store.streams import DurableQueue, process
from tests.alerts.conftest import alert_body
from tests.round_trips import counting_client
from worker.jobs import WorkerContext, run_job
from worker.queues import WARNINGS

PHONE = "13800138000"
# Create + risk flag + phone index; risk feed + the candidates' records; recipients + day index;
# per person: the claim (answering the alert too) and the record of the send (with the
# first warning's latency tally); XACK.
INTAKE_TRIPS = 3
PER_PERSON_TRIPS = 2
ACK_TRIPS = 1
def counting_worker(live: Any, url: str) -> tuple[WorkerContext, list[str]]:
    """A worker whose client notes the first command of every round trip it makes."""
    client, trips = counting_client(url)
    return WorkerContext(live.config, client), trips


def run_received_job(live: Any, ctx: WorkerContext, trips: list[str]) -> list[str]:
    """Run the next ``alert.received`` job as the worker does (handler, then XACK); its trips."""
    queue = DurableQueue(ctx.redis, WARNINGS, live.config.queue)
    queue.ensure_group()
    (job,) = queue.read("counting-worker", count=1, block_ms=0)
    trips.clear()
    process(queue, job, lambda j: run_job(j, ctx))
    return list(trips)


def warm_up(live: Any, ctx: WorkerContext, trips: list[str]) -> None:
    """A first warning loads the WeChat token and the content library, as a worker does once."""
    live.post(alert_body("warm-up"))
    run_received_job(live, ctx, trips)
    # The token just fetched is kept in memory from its next read on (bot.wechat).
    assert ctx.wechat.access_token


def test_warning_one_owner_costs_the_worker_six_round_trips(live, redis_url):
    owner = live.follower(phone=PHONE)
    ctx, trips = counting_worker(live, redis_url)
    warm_up(live, ctx, trips)
    live.post(alert_body("a1"))
    made = run_received_job(live, ctx, trips)
    assert len(live.templates(owner)) == 2
    assert len(made) <= INTAKE_TRIPS + PER_PERSON_TRIPS + ACK_TRIPS, " ".join(made)


def test_each_guardian_adds_only_their_own_send_to_the_round_trips(live, redis_url):
    owner = live.follower(phone=PHONE)
    guardian = live.follower(guards=PHONE)
    ctx, trips = counting_worker(live, redis_url)
    warm_up(live, ctx, trips)
    live.post(alert_body("a1"))
    made = run_received_job(live, ctx, trips)
    assert len(live.templates(owner)) == 2 and len(live.templates(guardian)) == 2
    assert len(made) <= INTAKE_TRIPS + 2 * PER_PERSON_TRIPS + ACK_TRIPS, made


def test_alert_for_an_unregistered_number_costs_the_worker_five_round_trips(live, redis_url):
    live.follower(phone=PHONE)
    ctx, trips = counting_worker(live, redis_url)
    warm_up(live, ctx, trips)
    live.post(alert_body("a1", phone="13900139000"))
    made = run_received_job(live, ctx, trips)
    assert live.redis.hget(keys.alert("a1"), "status") == "unregistered"
    # Intake's first two; the once-only flag, then the count with the day index; XACK.
    assert len(made) <= 2 + 2 + ACK_TRIPS, " ".join(made)


def test_recipients_officers_are_read_in_one_more_round_trip_however_many(live, redis_url):
    save_station(live.redis, Station("s1", "城东派出所"))
    save_station(live.redis, Station("s2", "城西派出所"))
    save_officer(live.redis, Officer("o1", "张警官", "010001", "s1"))
    save_officer(live.redis, Officer("o2", "李警官", "010002", "s2"))
    live.follower(phone=PHONE, scene="o:o1")
    live.follower(guards=PHONE, scene="o:o2")
    ctx, trips = counting_worker(live, redis_url)
    warm_up(live, ctx, trips)
    live.post(alert_body("a1"))
    made = run_received_job(live, ctx, trips)
    assert live.redis.hget(keys.alert("a1"), "stations") == "s1,s2"
    assert len(made) <= INTAKE_TRIPS + 1 + 2 * PER_PERSON_TRIPS + ACK_TRIPS, " ".join(made)
