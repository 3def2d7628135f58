"""POST /api/v1/alerts: signed, validated, idempotent, durably queued, no plain phone in Redis."""

from __future__ import annotations

import time

from store import tallies
from store.streams import DurableQueue
from tests.alerts.conftest import alert_body, sign
from worker.queues import WARNINGS

PHONE = "13900139000"


def post(client, body, **kwargs):
    raw, headers = sign(body, **kwargs)
    return client.post("/api/v1/alerts", data=raw, headers=headers)


def queued(redis, config) -> int:
    return int(redis.xlen(DurableQueue(redis, WARNINGS, config.queue).stream))


def test_signed_alert_is_accepted_and_queued_before_the_answer(client, redis, config):
    response = post(client, alert_body("a1", PHONE))
    assert response.status_code == 202
    assert response.get_json()["status"] == "accepted"
    assert queued(redis, config) == 1


def test_the_plain_phone_number_never_reaches_redis(client, redis):
    post(client, alert_body("a1", PHONE))
    dump = []
    for key in redis.scan_iter():
        kind = redis.type(key)
        if kind == "stream":
            dump.append(str(redis.xrange(key)))
        elif kind == "string":
            dump.append(str(redis.get(key)))
        elif kind == "hash":
            dump.append(str(redis.hgetall(key)))
    assert PHONE not in "".join(dump)


def test_resending_an_alert_id_changes_nothing(client, redis, config):
    assert post(client, alert_body("a1", PHONE)).status_code == 202
    again = post(client, alert_body("a1", PHONE))
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert queued(redis, config) == 1


def received(redis) -> float:
    return tallies.snapshot(redis).get("alerts_received_total", 0)


def test_the_received_tally_counts_each_alert_once_through_retries(client, redis, config):
    assert post(client, [alert_body("a1", PHONE), alert_body("a2", PHONE)]).status_code == 202
    # The platform retries a batch that timed out, with one new alert in it.
    retry = post(client, [alert_body("a1", PHONE), alert_body("a2", PHONE),
                          alert_body("a3", PHONE)])
    assert [r["status"] for r in retry.get_json()["results"]] == ["duplicate", "duplicate",
                                                                  "accepted"]
    assert post(client, alert_body("a3", PHONE)).get_json()["status"] == "duplicate"
    assert received(redis) == 3
    assert queued(redis, config) == 3

def test_invalid_alert_gets_422_listing_every_field_error(client):
    response = post(client, {"alert_id": "", "phone": "123", "fraud_type": "nope",
                             "channel": "fax", "risk_level": "extreme",
                             "detected_at": "yesterday", "source": "demo-platform"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"alert_id", "phone", "fraud_type", "channel", "counterpart", "risk_level",
                      "detected_at"}


def test_batch_reports_a_result_per_item(client, redis, config):
    batch = [alert_body("b1", PHONE), alert_body("b2", "12"), alert_body("b1", PHONE)]
    response = post(client, batch)
    assert response.status_code == 202
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == ["accepted", "invalid", "duplicate"]
    assert body["results"][1]["errors"] == [{"field": "phone",
                                             "error": "not a mainland mobile number"}]
    assert queued(redis, config) == 1


def test_batch_over_the_limit_is_refused_whole(client, redis, config):
    response = post(client, [alert_body(f"b{i}", PHONE) for i in range(1001)])
    assert response.status_code == 413
    assert queued(redis, config) == 0


def test_bad_signature_is_refused(client):
    raw, headers = sign(alert_body("a1", PHONE))
    headers["X-Alert-Signature"] = "0" * 64
    assert client.post("/api/v1/alerts", data=raw, headers=headers).status_code == 401


def test_unknown_source_is_refused(client):
    response = post(client, alert_body("a1", PHONE, source="other"), source="other")
    assert response.status_code == 401


def test_timestamp_outside_five_minutes_is_refused(client):
    assert post(client, alert_body("a1", PHONE), now=time.time() - 301).status_code == 401


def test_replayed_nonce_is_refused(client, redis, config):
    raw, headers = sign(alert_body("a1", PHONE))
    assert client.post("/api/v1/alerts", data=raw, headers=headers).status_code == 202
    assert client.post("/api/v1/alerts", data=raw, headers=headers).status_code == 409


def test_body_source_must_match_the_signed_source(client):
    response = post(client, alert_body("a1", PHONE, source="someone-else"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "source"


def test_a_tampered_body_is_refused_and_nothing_is_queued(client, redis, config):
    raw, headers = sign(alert_body("a1", PHONE))
    tampered = raw.replace(PHONE.encode(), b"13900139001")
    assert tampered != raw
    response = client.post("/api/v1/alerts", data=tampered, headers=headers)
    assert response.status_code == 401
    assert queued(redis, config) == 0
    # The genuine body with the same headers still goes through: the nonce was not spent.
    assert client.post("/api/v1/alerts", data=raw, headers=headers).status_code == 202
