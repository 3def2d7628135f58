"""Every multi-key operation of the alerts feature runs on a real 3-master cluster."""

from __future__ import annotations

import json

from alerts.ingest import accept
from alerts.store import AlertStore
from content.library import load_library
from store import tallies
from store.streams import DurableQueue
from tests.alerts.conftest import alert_body
from worker.queues import WARNINGS


def test_alert_create_and_timeline_updates_work_on_a_cluster(cluster_redis):
    store = AlertStore(cluster_redis, 3600)
    assert store.create("a1", {"status": "received"},
                        [{"event": "received", "actor": "x", "at_ms": 1}]) is True
    assert store.create("a1", {"status": "x"}, []) is False
    store.update("a1", {"status": "warned"}, event="sent", actor="worker", at_ms=2)
    assert store.get("a1")["status"] == "warned"
    assert [e["event"] for e in store.timeline("a1")] == ["received", "sent"]


def test_callback_queue_operations_work_on_a_cluster(cluster_redis):
    store = AlertStore(cluster_redis, 3600)
    entry = {"id": "a1:paid", "alert_id": "a1", "reason": "paid", "created_ms": 1}
    assert store.add_callback(entry) is True
    assert store.add_callback(entry) is False
    outcome = store.record_callback_outcome("a1:paid", "reached_paid", "duty", "", 2)
    assert outcome is not None and outcome["status"] == "done"
    assert store.open_callbacks()[0] == []


def test_unregistered_counting_works_on_a_cluster(cluster_redis):
    store = AlertStore(cluster_redis, 3600)
    store.count_unregistered("20240101", "k1")
    store.count_unregistered("20240101", "k1")
    assert store.unregistered_counts(["20240101"]) == [
        {"day": "20240101", "alerts": 2, "numbers": 1}]


def test_batch_ingest_pipeline_works_on_a_cluster(cluster_redis, config):
    results = accept(config, cluster_redis, [alert_body("c1"), alert_body("c2"),
                                             alert_body("c1")],
                     "demo-platform", set(load_library().types_by_id))
    assert [r.status for r in results] == ["accepted", "accepted", "duplicate"]
    queue = DurableQueue(cluster_redis, WARNINGS, config.queue)
    entries = cluster_redis.xrange(queue.stream)
    assert [json.loads(f["payload"])["alert_id"] for _, f in entries] == ["c1", "c2"]
    accept(config, cluster_redis, [alert_body("c2"), alert_body("c3")], "demo-platform",
           set(load_library().types_by_id))
    assert tallies.snapshot(cluster_redis)["alerts_received_total"] == 3


def test_recording_a_sent_warning_works_on_a_cluster(cluster_redis, config):
    from alerts.delivery import Deliverer, Recipient
    from content.library import load_library as lib

    deliverer = Deliverer(config, cluster_redis, wechat=None, library=lib())
    store = deliverer.store
    store.create("a1", {"status": "received", "detected_ms": "1"}, [])
    store.claim("a1", "r:o1", 1, "template", 1000)
    store.park_finish("o1", "77", "success", 2)  # the receipt came first
    deliverer._record_sent("a1", Recipient("o1", "owner", "r:o1"), store.get("a1"),
                           "template", "77", 3)
    marker = store.marker("a1", "r:o1")
    assert marker is not None and marker.state == "delivered"
    assert store.current_warning("o1") == "a1"
    assert store.due(10**13) == ["a1"]


def test_answers_escalation_and_station_lists_work_on_a_cluster(cluster_redis, config):
    from alerts.answers import allow_link_post, close_alert, record_answer

    store = AlertStore(cluster_redis, 3600)
    queue = DurableQueue(cluster_redis, WARNINGS, config.queue)
    store.create("a1", {"status": "warned", "recipients": "o1:owner,g1:guardian",
                        "stations": "s1", "officers": ""}, [])
    assert store.escalate_once("a1", 1) is True  # nobody answered: WATCH/MULTI on the tag
    record_answer(config, cluster_redis, queue, "a1", "g1", "safe", "reply", 0.002)
    record_answer(config, cluster_redis, queue, "a1", "o1", "paid", "link", 0.003)
    assert store.get("a1")["ans:o1"].startswith("paid|")
    assert store.urgent_cases("s1")[0] == ["a1"]
    (entry,), _ = store.open_callbacks("s1")
    assert entry["id"] == "a1:paid"
    store.record_callback_outcome("a1:paid", "reached_paid", "duty", "", 4)
    assert store.open_callbacks("s1")[0] == []
    assert close_alert(store, "a1", "duty", "", 5) and store.urgent_cases("s1")[0] == []
    assert allow_link_post(cluster_redis, "a1", "o1") is True
    assert store.prune(10) == 1 and store.callback("a1:paid") is None


def test_alert_intake_and_the_claim_work_on_a_cluster(cluster_redis, config):
    from alerts.intake import record_alert
    from alerts.model import day_of
    from registration.directory import Officer, Station, save_officer, save_station
    from store.followers import Follower, FollowerDirectory
    from store.phones import PhoneVault

    directory = FollowerDirectory(cluster_redis, PhoneVault.from_config(config.privacy))
    save_station(cluster_redis, Station("s1", "城关派出所"))
    save_officer(cluster_redis, Officer("off1", "李警官", "0001", "s1"))
    for openid, officer in (("o_owner", "off1"), ("o_son", "")):
        directory.save(Follower(openid, True, 1, officer, "", ""))
    directory.bind_own_phone("o_owner", "13800138000")
    directory.guard_phone("o_son", "13800138000")
    accept(config, cluster_redis, [alert_body("c1", "13800138000")], "demo-platform",
           set(load_library().types_by_id))
    queue = DurableQueue(cluster_redis, WARNINGS, config.queue)
    queue.ensure_group()
    (job,) = queue.read("t", block_ms=0)
    recipients = record_alert(config, cluster_redis, queue, job.payload, job.enqueued_ms, 1e9)
    assert [(f.openid, role) for f, role in recipients] == [("o_owner", "owner"),
                                                           ("o_son", "guardian")]
    store = AlertStore(cluster_redis, 3600)
    state = store.get("c1")
    assert (state["officers"], state["stations"]) == ("off1", "s1")
    day = day_of(int(job.payload["received_ms"]))
    assert store.list_day(day) == ["c1"] and store.list_day(day, "s1") == ["c1"]
    claim, claimed_state = store.claim_with_state("c1", "r:o_owner", 5, "template", 1000)
    assert claim.outcome == "claimed" and claimed_state["recipients"] == state["recipients"]
