"""Warnings reach every follower guarding the number, once, through faults."""

from __future__ import annotations

import time

from alerts.delivery import FINISH_SETTLE_MS, Deliverer
from alerts.store import AlertStore
from store import tallies
from tests.alerts.conftest import alert_body

PHONE = "13800138000"


def store(live) -> AlertStore:
    return AlertStore(live.redis, 86400)


def test_warning_reaches_owner_and_guardian_once_each_by_template(live):
    owner = live.follower(phone=PHONE)
    guardian = live.follower(guards=PHONE)
    assert live.post(alert_body("a1")).status_code == 202
    live.run_jobs()
    assert len(live.templates(owner)) == 1
    assert len(live.templates(guardian)) == 1
    assert live.sbx.stats()["duplicates"].get("template", 0) == 0


def test_template_uses_keyword_fields_only_and_masks_the_number(live):
    owner = live.follower(phone=PHONE)
    live.post(alert_body("a1"))
    live.run_jobs()
    (message,) = live.templates(owner)
    data = message["payload"]["data"]
    assert "first" not in data and "remark" not in data
    assert data["phone_number2"]["value"] == "138****8000"
    assert "1" in data["thing5"]["value"] and "2" in data["thing5"]["value"]
    assert all(len(v["value"]) <= 20 for k, v in data.items() if k.startswith("thing"))
    assert "/alerts/answer/" in message["payload"]["url"]


def test_timeline_shows_received_queued_sent_and_delivered(live):
    live.follower(phone=PHONE)
    live.post(alert_body("a1"))
    live.run_jobs()
    live.wait_for(lambda: any(e["event"] == "delivered" for e in store(live).timeline("a1")))
    events = [e["event"] for e in store(live).timeline("a1")]
    assert events[:2] == ["received", "queued"]
    assert "sent" in events and "delivered" in events
    (received,) = [e for e in store(live).timeline("a1") if e["event"] == "received"]
    assert received["actor"] == "source:demo-platform"


def test_running_the_jobs_again_warns_nobody_twice(live):
    owner = live.follower(phone=PHONE)
    live.post(alert_body("a1"))
    live.run_jobs()
    deliverer = Deliverer(live.config, live.redis, live.ctx.wechat, live.ctx.library)
    assert deliverer.warn_follower("a1", owner, "owner") == "done"
    assert len(live.templates(owner)) == 1


def test_worker_killed_after_send_before_record_does_not_warn_twice(live):
    owner = live.follower(phone=PHONE)
    live.post(alert_body("a1"))
    # Run only the intake job; keep the per-recipient job pending, as if a worker took it.
    live.run_jobs(handle=lambda job: _intake_only(live, job))
    deliverer = Deliverer(live.config, live.redis, live.ctx.wechat, live.ctx.library)
    # What the killed worker did: claim, then send... and die before recording.
    claim = store(live).claim("a1", f"r:{owner}", int(time.time() * 1000), "template", 1000)
    assert claim.outcome == "claimed"
    facts_state = store(live).get("a1")
    deliverer._send_template(_who(owner), deliverer._facts("a1", facts_state), facts_state)
    live.wait_for(lambda: live.templates(owner))
    _wait_for_the_receipt_then_move_the_worker_clock_past_the_grace(live, owner)
    live.reclaim_jobs()
    assert len(live.templates(owner)) == 1
    marker = store(live).marker("a1", f"r:{owner}")
    assert marker is not None and marker.state == "delivered"


def test_unconfirmed_send_without_receipt_is_sent_again_after_the_grace(live):
    owner = live.follower(phone=PHONE)
    live.post(alert_body("a1"))
    live.run_jobs(handle=lambda job: _intake_only(live, job))
    # A worker claimed and died before its request left: no receipt will ever come.
    claimed_s = time.time()
    store(live).claim("a1", f"r:{owner}", int(claimed_s * 1000), "template", 1000)
    live.ctx.clock = lambda: claimed_s  # too early: the send may still be in flight
    live.reclaim_jobs()
    assert live.templates(owner) == []
    live.ctx.clock = lambda: claimed_s + live.config.alerts.unconfirmed_resend_s + 0.5
    live.reclaim_jobs()
    assert len(live.templates(owner)) == 1


def test_template_timeout_is_not_resent_when_the_receipt_shows_it_arrived(live):
    owner = live.follower(phone=PHONE)
    live.sbx.set_fault(api="message/template/send", fault="hang", hang_ms=1500)
    live.post(alert_body("a1"))
    live.run_jobs()  # the call times out after 1 s; the simulator sends at 1.5 s
    live.wait_for(lambda: live.templates(owner))
    _wait_for_the_receipt_then_move_the_worker_clock_past_the_grace(live, owner)
    live.reclaim_jobs()
    assert len(live.templates(owner)) == 1
    marker = store(live).marker("a1", f"r:{owner}")
    assert marker is not None and marker.state == "delivered"


def test_wechat_5xx_is_retried_with_backoff(live):
    owner = live.follower(phone=PHONE)
    live.sbx.set_fault(api="message/template/send", fault="http", http_status=502, times=2)
    live.post(alert_body("a1"))
    live.run_jobs()
    assert len(live.templates(owner)) == 1


def test_system_busy_on_every_attempt_falls_back_to_customer_service_message(live):
    owner = live.follower(phone=PHONE)
    live.sbx.set_fault(api="message/template/send", fault="busy",
                       times=live.config.alerts.send_attempts)
    live.post(alert_body("a1"))
    live.run_jobs()
    assert live.templates(owner) == []
    (custom,) = live.sbx.messages(owner, kind="custom")
    assert "138****8000" in custom["payload"]["text"]["content"]


def test_expired_token_is_refreshed_and_the_warning_sent_once(live):
    owner = live.follower(phone=PHONE)
    live.post(alert_body("a0"))
    live.run_jobs()  # a token is now cached
    live.sbx.expire_token("expire")
    live.post(alert_body("a1"))
    live.run_jobs()
    assert len(live.templates(owner)) == 2
    assert live.sbx.stats()["duplicates"].get("template", 0) == 0


def test_unfollowed_owner_is_marked_unsubscribed_and_warned_by_sms(live):
    owner = live.follower(phone=PHONE)
    # Unfollowed on WeChat while our record still says subscribed (e.g. the event was lost).
    live.sbx._call("POST", f"sandbox/api/citizens/{owner}/unfollow")
    follower = live.directory.get(owner)
    from store.followers import Follower
    live.directory.save(Follower(**{**follower.__dict__, "subscribed": True}))
    live.post(alert_body("a1"))
    live.run_jobs()
    assert live.templates(owner) == []
    assert live.directory.get(owner).subscribed is False
    sms = live.sbx.messages(kind="sms")
    assert len(sms) == 1 and sms[0]["payload"]["phone"] == PHONE


def test_nothing_reaches_the_follower_goes_to_dead_letters(live):
    owner = live.follower(phone=PHONE)
    live.sbx.set_fault(api="message/template/send", fault="errcode", errcode=40037, times=100)
    live.sbx.advance_clock(49 * 3600)  # the customer-service window has closed
    live.sbx.set_fault(api="sms", fault="http", http_status=503, times=100)
    live.post(alert_body("a1"))
    for _ in range(live.config.queue.max_deliveries + 1):
        live.reclaim_jobs()
    dead = live.queue.dead_letters()
    assert [d["type"] for d in dead] == ["alert.warn"]
    assert PHONE not in str(dead)
    marker = store(live).marker("a1", f"r:{owner}")
    assert marker is not None and marker.state == "failed"


def _wait_for_the_receipt_then_move_the_worker_clock_past_the_grace(live, openid: str) -> None:
    """The job-finish receipt reaches our webhook a moment after the send; once it is parked,
    the worker's clock moves past both the unconfirmed grace and the receipt's settle time, so
    the reconciliation that follows sees a stale marker and a settled receipt, however slowly
    this box runs."""
    live.wait_for(lambda: store(live).parked_finishes(openid), what="the job-finish receipt")
    later_s = time.time() + live.config.alerts.unconfirmed_resend_s + FINISH_SETTLE_MS / 1000 + 1
    live.ctx.clock = lambda: later_s


def _who(openid: str):
    from alerts.delivery import Recipient

    return Recipient(openid, "owner", f"r:{openid}")


def _intake_only(live, job) -> None:
    """Record the alert and queue the per-person jobs, but send nothing (as if the worker
    died right after), leaving the per-person jobs pending."""
    from alerts.intake import enqueue_warning, record_alert

    if job.type != "alert.received":
        raise RuntimeError("left pending on purpose")
    for follower, role in record_alert(live.config, live.redis, live.queue, job.payload,
                                       job.enqueued_ms, time.time()):
        enqueue_warning(live.queue, job.payload["alert_id"], follower.openid, role)


def test_customer_service_send_with_unknown_outcome_waits_for_staff(live):
    owner = live.follower(phone=PHONE)
    live.sbx.set_fault(api="message/template/send", fault="errcode", errcode=40037, times=10)
    live.sbx.set_fault(api="message/custom/send", fault="hang", hang_ms=1500)
    live.post(alert_body("a1"))
    live.run_jobs()
    marker = store(live).marker("a1", f"r:{owner}")
    assert marker is not None and marker.state == "unconfirmed"
    (dead,) = live.queue.dead_letters()
    live.wait_for(lambda: live.sbx.messages(owner, kind="custom"))
    # Staff decide it did not arrive (say) and retry: it is sent again, by their choice.
    live.queue.retry_dead_letter(dead["entry_id"])
    live.run_jobs()
    assert len(live.sbx.messages(owner, kind="custom")) == 2


def test_warning_latency_is_counted_once_per_alert_however_many_are_warned(live):
    live.follower(phone=PHONE)
    live.follower(guards=PHONE)
    live.post(alert_body("a1"))
    live.run_jobs()
    assert tallies.snapshot(live.redis)["alerts_warning_latency_seconds_count"] == 1


def test_warning_latency_is_counted_once_when_another_sender_stamps_the_first_warning(live):
    owner = live.follower(phone=PHONE)
    guardian = live.follower(guards=PHONE)
    live.post(alert_body("a1"))
    live.run_jobs(handle=lambda job: _intake_only(live, job))
    rival = Deliverer(live.config, live.redis, live.ctx.wechat, live.ctx.library)
    reads = 0

    def clock() -> float:
        # The second reading is taken after this sender's claim and send, just before it
        # records them: the rival warns the guardian in between and stamps the first warning.
        nonlocal reads
        reads += 1
        if reads == 2:
            assert rival.warn_follower("a1", guardian, "guardian") == "sent"
        return time.time()

    slow = Deliverer(live.config, live.redis, live.ctx.wechat, live.ctx.library, clock=clock)
    assert slow.warn_follower("a1", owner, "owner") == "sent"
    assert reads >= 2
    assert tallies.snapshot(live.redis)["alerts_warning_latency_seconds_count"] == 1
