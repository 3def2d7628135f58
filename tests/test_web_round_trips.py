"""What one warning costs the web app in Redis round trips and commands.

A warning reaches the web app twice: the warning platform's ingest POST and WeChat's
TEMPLATESENDJOBFINISH receipt on the webhook. Each round trip costs the web process ~60-80 µs of
CPU (redis-py plus the syscalls), a large share of a warning's budget on the 2-core box (issue 13,
"Capacity of the warning path"). These tests count, against a real Redis, the round trips the app
makes and the commands Redis runs (``INFO commandstats``, script bodies included), so a change
that adds one fails here rather than in a benchmark. The worker's side is counted in
``tests/alerts/test_round_trips.py``.
"""

from __future__ import annotations

from typing import Any

from alerts.delivery import confirm_delivery
from alerts.store import AlertStore, Marker, recipient_field
from store import tallies
from tests import wx
from tests.alerts.conftest import alert_body, sign
from tests.round_trips import commands_run, counting_client

# Nonce + claim (read back, so a trip repeated in a failover knows its own claim) + the msgid's
# alert; marker and timeline in one script + the tally. The answer is a plain "success", which
# needs no copy in the claim.
RECEIPT_TRIPS = 2
RECEIPT_COMMANDS = 11  # SET SET GET GET EVAL(HGET HSET RPUSH LTRIM EXPIRE) HINCRBY
# Nonce; the stream (marker + XADD in one script) with the tally.
INGEST_TRIPS = 2
INGEST_COMMANDS = 5  # SET EVAL(SET XADD) HINCRBY
def web_app(config: Any, url: str) -> tuple[Any, list[str]]:
    from app import create_app

    counting, trips = counting_client(url)
    app = create_app(config, counting)
    app.testing = True
    return app.test_client(), trips


def sent_warning(store: AlertStore, alert_id: str, openid: str, msgid: str) -> None:
    """A warning the worker sent: the alert, its ``sent`` marker and the msgid's mapping."""
    store.create(alert_id, {"status": "warned"}, [])
    store.set_marker(alert_id, recipient_field(openid), Marker("sent", 1, "template", msgid))
    store.map_msgid(msgid, alert_id, recipient_field(openid))


def receipt(openid: str, msgid: str) -> str:
    return wx.event_xml(openid, "TEMPLATESENDJOBFINISH", MsgID=msgid, Status="success")


def test_a_delivery_receipt_costs_two_round_trips_and_eleven_commands(redis, redis_url,
                                                                      config):
    client, trips = web_app(config, redis_url)
    store = AlertStore(redis, 86400)
    sent_warning(store, "a-1", "o_owner", "3000000002")
    redis.config_resetstat()
    trips.clear()

    response = wx.post(client, config, receipt("o_owner", "3000000002"))
    commands = commands_run(redis)

    assert response.status_code == 200
    marker = store.marker("a-1", recipient_field("o_owner"))
    assert marker is not None and marker.state == "delivered"
    assert [e["event"] for e in store.timeline("a-1")] == ["delivered"]
    assert len(trips) <= RECEIPT_TRIPS, trips
    assert commands <= RECEIPT_COMMANDS


def test_a_replayed_receipt_changes_nothing_and_is_not_counted_twice(redis, redis_url, config):
    client, _ = web_app(config, redis_url)
    store = AlertStore(redis, 86400)
    sent_warning(store, "a-1", "o_owner", "3000000002")
    query = wx.signed_query(config)
    body = wx.seal(config, receipt("o_owner", "3000000002"), query)
    for _ in range(2):
        response = client.post("/wechat", query_string=query, data=body.encode(),
                               content_type="text/xml")
        assert response.status_code == 200

    assert len(store.timeline("a-1")) == 1
    delivered = tallies.snapshot(redis)
    assert delivered['alerts_warnings_delivered_total{channel="template"}'] == 1


def test_a_receipt_for_a_marker_that_moved_on_leaves_the_tally_alone(redis, config):
    store = AlertStore(redis, 86400)
    sent_warning(store, "a-1", "o_owner", "3000000002")
    field = recipient_field("o_owner")
    assert confirm_delivery(store, redis, "a-1", field, "3000000002", "success", 5)
    # The same receipt again (the sender claimed it parked, or WeChat pushed it twice).
    assert not confirm_delivery(store, redis, "a-1", field, "3000000002", "success", 6)

    assert tallies.snapshot(redis)['alerts_warnings_delivered_total{channel="template"}'] == 1
    assert len(store.timeline("a-1")) == 1
    marker = store.marker("a-1", field)
    assert marker is not None and marker.at_ms == 5

def test_one_alert_ingest_costs_two_round_trips_and_five_commands(redis, redis_url, config):
    client, trips = web_app(config, redis_url)
    raw, headers = sign(alert_body("warm"))
    assert client.post("/api/v1/alerts", data=raw, headers=headers).status_code == 202
    raw, headers = sign(alert_body("a-1"))
    redis.config_resetstat()
    trips.clear()

    response = client.post("/api/v1/alerts", data=raw, headers=headers)
    commands = commands_run(redis)

    assert response.status_code == 202
    assert response.get_json()["status"] == "accepted"
    assert len(trips) <= INGEST_TRIPS, trips
    assert commands <= INGEST_COMMANDS
