"""Unanswered warnings escalate once (even with two schedulers); answered ones never do."""

from __future__ import annotations

import time

from alerts.escalation import enqueue_due, escalate
from alerts.store import AlertStore
from registration.directory import Officer, Station, save_officer, save_station
from scheduler.escalation import scan_unanswered
from store import keys
from tests.alerts.conftest import alert_body

PHONE = "13600136000"


def store(live) -> AlertStore:
    return AlertStore(live.redis, 86400)


def warned(live, scene=None) -> str:
    owner = live.follower(phone=PHONE, scene=scene)
    live.post(alert_body("a1", PHONE))
    live.run_jobs()
    return owner


def test_unanswered_warning_escalates_after_timeout_to_officer_and_callback_queue(live):
    officer_openid = live.sbx.new_citizen()
    live.sbx.follow(officer_openid)
    save_station(live.redis, Station("s1", "城关派出所"))
    save_officer(live.redis, Officer("o1", "张警官", "001234", "s1", "", officer_openid))
    warned(live, scene="o:o1")
    later = time.time() + live.config.alerts.answer_timeout_s + 1
    assert enqueue_due(live.config, live.redis, live.queue, later) == 1
    live.run_jobs()
    state = store(live).get("a1")
    assert state["status"] == "escalated"
    assert [c["reason"] for c in store(live).open_callbacks()[0]] == ["unanswered"]
    (notice,) = live.templates(officer_openid)
    assert "未应答" in notice["payload"]["data"]["thing5"]["value"]
    assert any(e["event"] == "escalated" and e["actor"] == "scheduler"
               for e in store(live).timeline("a1"))


def test_nothing_escalates_before_the_deadline(live):
    warned(live)
    assert enqueue_due(live.config, live.redis, live.queue, time.time()) == 0


def test_two_schedulers_escalate_once(live):
    warned(live)
    later = time.time() + live.config.alerts.answer_timeout_s + 1
    # Both scans see the alert due before either removes it.
    due = store(live).due(int(later * 1000))
    assert due == ["a1"]
    first = live.queue.enqueue("alert.escalate", {"alert_id": "a1"}, job_id="escalate:a1")
    assert enqueue_due(live.config, live.redis, live.queue, later) == 0 and first
    assert live.run_jobs() == 1
    assert escalate(live.config, live.redis, live.queue, "a1", later) is True  # a re-run
    events = [e["event"] for e in store(live).timeline("a1")]
    assert events.count("escalated") == 1
    assert events.count("callback_queued") == 1


def test_answered_warning_does_not_escalate(live):
    owner = warned(live)
    live.sbx.send_text(owner, "安全")
    later = time.time() + live.config.alerts.answer_timeout_s + 1
    live.redis.zadd(keys.alert_deadlines(), {"a1": 0})  # even if a stale deadline were left
    enqueue_due(live.config, live.redis, live.queue, later)
    live.run_jobs()
    assert store(live).get("a1")["status"] == "answered"
    assert store(live).open_callbacks()[0] == []


def test_scheduler_job_enqueues_due_escalations(live):
    warned(live)
    live.redis.zadd(keys.alert_deadlines(), {"a1": 0})  # the deadline has passed
    scan_unanswered(live.config, live.redis)
    assert live.run_jobs() == 1
    assert store(live).get("a1")["status"] == "escalated"
