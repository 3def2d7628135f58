"""The alert desk's JSON: roles and areas, call-back outcomes, dead letters, counts, funnel."""

from __future__ import annotations

import json

from alerts.answers import queue_callback
from alerts.intake import record_alert
from alerts.store import AlertStore
from store.phones import PhoneVault
from store.streams import DurableQueue
from tests.alerts.conftest import alert_body, sign
from tests.staff import CSRF_TOKEN, sign_in
from worker.queues import WARNINGS

PHONE = "13500135000"


def login(client, role, station=""):
    sign_in(client, role, station, username=f"u_{role}")
    return {"X-CSRF-Token": CSRF_TOKEN}


def ingest_and_record(client, redis, config, alert_id="a1", **overrides):
    raw, headers = sign(alert_body(alert_id, PHONE, **overrides))
    assert client.post("/api/v1/alerts", data=raw, headers=headers).status_code == 202
    queue = DurableQueue(redis, WARNINGS, config.queue)
    queue.ensure_group()
    for job in queue.read("t", block_ms=0):
        record_alert(config, redis, queue, job.payload, job.enqueued_ms, 1e9)
        queue.ack(job)


def test_staff_apis_need_a_login(client):
    assert client.get("/api/v1/alerts").status_code == 401


def test_duty_sees_the_alert_list_detail_and_timeline_with_masked_number(client, redis, config):
    ingest_and_record(client, redis, config)
    login(client, "duty")
    assert client.get("/api/v1/alerts/a1").get_json()["phone_masked"] == "135****5000"
    listed = client.get("/api/v1/alerts").get_json()["alerts"]
    assert [a["alert_id"] for a in listed] == ["a1"]
    assert listed[0]["phone_masked"] == "135****5000" and PHONE not in json.dumps(listed)
    timeline = client.get("/api/v1/alerts/a1/timeline").get_json()["timeline"]
    assert [e["event"] for e in timeline][:2] == ["received", "queued"]


def test_officer_sees_only_their_station(client, redis, config):
    ingest_and_record(client, redis, config)
    login(client, "officer", station="s9")
    assert client.get("/api/v1/alerts/a1").status_code == 403
    assert client.get("/api/v1/alerts").get_json()["alerts"] == []


def test_unregistered_high_risk_number_is_counted_and_queued_for_callback(client, redis, config):
    ingest_and_record(client, redis, config, risk_level="high")
    login(client, "duty")
    days = client.get("/api/v1/alerts/unregistered?days=1").get_json()["days"]
    assert days[0]["alerts"] == 1 and days[0]["numbers"] == 1
    (entry,) = client.get("/api/v1/alerts/callbacks").get_json()["callbacks"]
    assert entry["reason"] == "unregistered_high_risk" and entry["phone_masked"] == "135****5000"


def test_callback_outcome_closes_the_entry_and_is_timelined_and_audited(client, redis, config):
    ingest_and_record(client, redis, config, risk_level="high")
    headers = login(client, "duty")
    entry_id = "a1:unregistered_high_risk"
    response = client.post(f"/api/v1/alerts/callbacks/{entry_id}/outcome", headers=headers,
                           json={"outcome": "reached_safe", "note": "已核实"})
    assert response.status_code == 200
    assert client.get("/api/v1/alerts/callbacks").get_json()["callbacks"] == []
    events = [e["event"] for e in AlertStore(redis, 86400).timeline("a1")]
    assert "callback" in events
    from console.audit import entries

    assert entries(redis, action="alert.callback")[0]["actor"] == "u_duty"


def test_revealing_the_number_to_call_is_audited(client, redis, config):
    ingest_and_record(client, redis, config, risk_level="high")
    headers = login(client, "duty")
    response = client.post("/api/v1/alerts/callbacks/a1:unregistered_high_risk/reveal",
                           headers=headers)
    assert response.get_json()["phone"] == PHONE
    from console.audit import entries

    assert entries(redis, action="alert.reveal_phone")


def test_counterpart_feeds_the_risk_list(client, redis, config):
    ingest_and_record(client, redis, config, counterpart="https://fake-police.cn/case")
    from intel.risklist import lookup, risk_key

    record = lookup(redis, risk_key(config.privacy), "fake-police.cn")
    assert record is not None and record["fraud_type"] == "police"


def test_dead_letters_show_masked_numbers_and_can_be_retried(client, redis, config):
    vault = PhoneVault.from_config(config.privacy)
    queue = DurableQueue(redis, WARNINGS, config.queue)
    queue.ensure_group()
    queue.enqueue("alert.received", {"alert_id": "x", "phone_enc": vault.encrypt(PHONE),
                                     "phone_key": vault.lookup_key(PHONE)}, job_id="alert:x")
    (job,) = queue.read("t", block_ms=0)
    queue.bury(job, "test")
    headers = login(client, "duty")
    (row,) = client.get("/api/v1/alerts/dead-letters").get_json()["dead_letters"]
    assert row["payload"]["phone_masked"] == "135****5000" and PHONE not in json.dumps(row)
    assert client.post(f"/api/v1/alerts/dead-letters/{row['entry_id']}/retry",
                       headers=headers).status_code == 200
    assert queue.dead_letters() == []


def test_funnel_counts_come_from_counters(client, redis, config):
    ingest_and_record(client, redis, config)
    login(client, "duty")
    stats = client.get("/api/v1/alerts/stats").get_json()
    assert stats["funnel"]["received"] == 1
    assert set(stats["funnel"]) == {"received", "sent", "delivered", "answered", "escalated"}


def test_urgent_case_checklist_can_be_ticked(client, redis, config):
    ingest_and_record(client, redis, config)
    store = AlertStore(redis, 86400)
    queue = DurableQueue(redis, WARNINGS, config.queue)
    from alerts.answers import open_urgent_case

    open_urgent_case(store, redis, queue, "a1", "follower:x", 1)
    headers = login(client, "duty")
    (case,) = client.get("/api/v1/alerts/urgent").get_json()["cases"]
    assert [c["item"] for c in case["checklist"]][2] == "stop_payment"
    response = client.post("/api/v1/alerts/a1/checklist", headers=headers,
                           json={"item": "stop_payment", "done": True})
    assert response.get_json()["checklist"]["stop_payment"]["staff"] == "u_duty"
    assert queue_callback(store, "a1", "paid", store.get("a1"), 2) is False  # once per reason


NOT_OBJECTS = ['"x"', "[1]", "5"]
BAD_NOTES = ['{"note": "\\ud800", "outcome": "reached_safe"}',
             '{"note": 5, "outcome": "reached_safe"}',
             '{"note": "' + "长" * 501 + '", "outcome": "reached_safe"}']
BAD_BODIES = {"/api/v1/alerts/a1/checklist": [*NOT_OBJECTS,
                                                '{"item": "stop_payment", "done": "no"}'],
              "/api/v1/alerts/a1/close": NOT_OBJECTS + BAD_NOTES,
              "/api/v1/alerts/callbacks/a1:unregistered_high_risk/outcome": NOT_OBJECTS + BAD_NOTES}


def test_a_desk_action_with_a_malformed_body_is_4xx_and_changes_nothing(client, redis, config):
    ingest_and_record(client, redis, config, risk_level="high")
    store = AlertStore(redis, 86400)
    from alerts.answers import open_urgent_case

    open_urgent_case(store, redis, DurableQueue(redis, WARNINGS, config.queue), "a1",
                     "follower:x", 1)
    headers = login(client, "duty")
    timeline = store.timeline("a1")
    for path, bodies in BAD_BODIES.items():
        for raw in bodies:
            response = client.post(path, headers=headers, data=raw,
                                   content_type="application/json")
            assert 400 <= response.status_code < 500, (path, raw, response.status_code)
    assert store.timeline("a1") == timeline
    assert store.get("a1")["status"] != "closed"
