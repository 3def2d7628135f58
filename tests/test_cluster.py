"""Every multi-key operation the code performs, run on a real 3-master Redis Cluster.

A key pair without a shared hash tag fails here with CROSSSLOT instead of in production.
Later features add their multi-key paths to this file.
"""

from __future__ import annotations

from datetime import UTC

from config import QueueConfig
from console.accounts import create_account, verify_password
from store import health, keys
from store.streams import DurableQueue, process


def test_idempotent_enqueue_and_consume_on_cluster(cluster_redis):
    queue = DurableQueue(cluster_redis, "warnings", QueueConfig(reclaim_idle_s=0, block_ms=10))
    queue.ensure_group()
    assert queue.enqueue("t", {"a": 1}, job_id="x")
    assert not queue.enqueue("t", {"a": 1}, job_id="x")
    (job,) = queue.read("w")
    process(queue, job, lambda j: None)
    assert queue.depth() == 0


def test_dead_letter_and_retry_on_cluster(cluster_redis):
    queue = DurableQueue(cluster_redis, "broadcasts", QueueConfig(reclaim_idle_s=0, block_ms=10))
    queue.ensure_group()
    queue.enqueue("t", {"a": 1}, job_id="x")
    (job,) = queue.read("w")
    queue.bury(job, "test")
    (dead,) = queue.dead_letters()
    assert queue.retry_dead_letter(dead["entry_id"])


def test_health_mget_on_cluster(cluster_redis):
    health.beat(cluster_redis, "worker")
    assert health.status(cluster_redis) == {"redis": True, "worker": True, "scheduler": False,
                                            "consumers": True}


def test_staff_account_transaction_on_cluster(cluster_redis):
    create_account(cluster_redis, "duty1", "correct horse battery", "duty")
    account = verify_password(cluster_redis, "duty1", "correct horse battery")
    assert account is not None and account["role"] == "duty"


def test_dialog_transaction_on_cluster(cluster_redis):
    from types import SimpleNamespace

    from bot.dialogs import current_dialog, start_dialog

    ctx = SimpleNamespace(redis=cluster_redis)
    start_dialog(ctx, "o_user", "bind_phone", step="ask_number")
    assert current_dialog(ctx, "o_user") == "bind_phone"


def test_scheduler_job_store_on_cluster(cluster_redis):
    from datetime import datetime, timedelta

    from apscheduler.schedulers.background import BackgroundScheduler

    from scheduler.process import job_store

    scheduler = BackgroundScheduler(jobstores={"default": job_store(cluster_redis)})
    scheduler.start(paused=True)
    try:
        run_at = datetime.now(UTC) + timedelta(days=1)
        scheduler.add_job(print, "date", run_date=run_at, id="cluster-job", args=["x"])
        assert scheduler.get_job("cluster-job") is not None
        scheduler.remove_job("cluster-job")
    finally:
        scheduler.shutdown(wait=False)


def test_webhook_handles_messages_on_cluster(cluster_redis, redis_url):
    """The webhook's pipelined claim/activity/dialog read spans slots: fine unless transactional."""
    from app import create_app
    from tests import wx
    from tests.conftest import make_config

    config = make_config(redis_url, redis={"cluster": True})
    client = create_app(config, cluster_redis).test_client()
    xml = wx.text_xml("o_cluster", "帮助", msg_id=123)
    first = wx.post(client, config, xml)
    second = wx.post(client, config, xml)
    assert first.status_code == second.status_code == 200
    assert wx.reply_text(config, first) == wx.reply_text(config, second)
    assert wx.reply_text(config, first)



def test_webhook_confirms_a_delivery_receipt_on_cluster(cluster_redis, redis_url):
    """A receipt reads the msgid's alert with the claim, moves the marker and its timeline in one
    script on the alert's slot, and tallies with the answer: each across slots, fine."""
    from alerts.store import AlertStore, Marker, recipient_field
    from app import create_app
    from store import tallies
    from tests import wx
    from tests.conftest import make_config

    config = make_config(redis_url, redis={"cluster": True})
    client = create_app(config, cluster_redis).test_client()
    store = AlertStore(cluster_redis, 86400)
    store.create("a-cluster", {"status": "warned"}, [])
    store.set_marker("a-cluster", recipient_field("o_cluster"), Marker("sent", 1, "template", "55"))
    store.map_msgid("55", "a-cluster", recipient_field("o_cluster"))
    xml = wx.event_xml("o_cluster", "TEMPLATESENDJOBFINISH", MsgID="55", Status="success")

    assert wx.post(client, config, xml).status_code == 200

    marker = store.marker("a-cluster", recipient_field("o_cluster"))
    assert marker is not None and marker.state == "delivered"
    assert [e["event"] for e in store.timeline("a-cluster")] == ["delivered"]
    counts = tallies.snapshot(cluster_redis)
    assert counts['alerts_warnings_delivered_total{channel="template"}'] == 1


def test_consumer_reports_on_cluster(cluster_redis):
    health.report_consumers(cluster_redis, [("w1/bot", True), ("w1/warnings", False)], 10**13)
    assert health.consumer_states(cluster_redis.hgetall(keys.consumer_health()), 10**13) == {
        "w1/bot": True, "w1/warnings": False}
