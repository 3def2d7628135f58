"""Answers from many people at once, and in any order: generated sequences against real Redis.

These call the domain function the webhook and the answer page call (``record_answer``) and
staff close (``close_alert``), without the simulator, so Hypothesis can try hundreds of orders.
"""

from __future__ import annotations

import json
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.answers import close_alert, record_answer
from alerts.store import AlertStore
from store import keys
from store.streams import DurableQueue
from worker.queues import WARNINGS

PEOPLE = ["owner0", "guard1", "guard2", "guard3"]


def new_alert(redis, alert_id: str = "a1", people=PEOPLE) -> AlertStore:
    store = AlertStore(redis, 86400)
    roles = ",".join(f"{p}:{'owner' if p.startswith('owner') else 'guardian'}" for p in people)
    store.create(alert_id, {"status": "warned", "recipients": roles, "officers": "o1",
                            "stations": "s1", "first_sent_ms": "1"},
                 [{"event": "received", "actor": "source:test", "at_ms": 1}])
    return store


def events(store: AlertStore, name: str, alert_id: str = "a1") -> int:
    return sum(1 for e in store.timeline(alert_id) if e["event"] == name)


def test_two_people_answering_at_the_same_moment_are_both_recorded(redis, config):
    queue = DurableQueue(redis, WARNINGS, config.queue)
    for round_no in range(20):
        alert_id = f"r{round_no}"
        store = new_alert(redis, alert_id)
        start = threading.Barrier(len(PEOPLE))
        answers = {p: ("paid" if i % 2 else "safe") for i, p in enumerate(PEOPLE)}

        def answer(person: str, start=start, alert_id=alert_id, answers=answers) -> None:
            start.wait()
            record_answer(config, redis, queue, alert_id, person, answers[person], "reply",
                          2.0)

        threads = [threading.Thread(target=answer, args=(p,)) for p in PEOPLE]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        state = store.get(alert_id)
        recorded = {p: state[f"ans:{p}"].partition("|")[0] for p in PEOPLE}
        assert recorded == answers
        assert events(store, "answered", alert_id) == len(PEOPLE)
        assert events(store, "case_opened", alert_id) == 1
        assert state["answer"] == "safe"  # the owner's own answer heads the desk


steps = st.lists(
    st.one_of(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(["safe", "paid"])),
              st.just(("staff", "close"))),
    min_size=1, max_size=12)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_any_paid_while_open_opens_one_case_and_paid_never_reverts(redis, config, sequence):
    redis.flushdb()
    store = new_alert(redis)
    queue = DurableQueue(redis, WARNINGS, config.queue)
    paid_in_time: set[str] = set()  # said "paid" while the alert was open
    closed = False
    for at, (who, what) in enumerate(sequence, start=2):
        if what == "close":
            close_alert(store, "a1", "duty", "", at)
            closed = True
        else:
            record_answer(config, redis, queue, "a1", who, what, "reply", at / 1000)
            if what == "paid" and not closed:
                paid_in_time.add(who)
        state = store.get("a1")
        for person in paid_in_time:  # a paid answer never reverts
            assert state[f"ans:{person}"].startswith("paid|")
        if paid_in_time:
            assert state.get("case_opened_ms")
            assert state["status"] == ("closed" if closed else "urgent")
    assert events(store, "case_opened") == (1 if paid_in_time else 0)
    reasons = [json.loads(v)["reason"] for v in redis.hvals(keys.alert_callback_items())]
    assert reasons == (["paid"] if paid_in_time else [])
    assert store.get("a1")["status"] == "closed" or not closed
