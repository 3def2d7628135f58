"""Odd and hostile values get a 4xx that names what is wrong, never a 500, and change nothing.

Each case here gave a 500 (or slipped past a cap) before; the property tests in
tests/test_input_properties.py throw generated input at the same places.
"""

from __future__ import annotations

import json
import secrets

import pytest

from alerts.signing import signed_headers
from store.streams import DurableQueue
from tests import wx
from tests.alerts.conftest import SOURCE, SOURCE_KEY, alert_body, sign
from tests.conftest import make_config
from worker.queues import WARNINGS

PHONE = "13900139000"


def queued(redis, config) -> int:
    return int(redis.xlen(DurableQueue(redis, WARNINGS, config.queue).stream))


def post_raw(client, raw: bytes):
    headers = signed_headers(SOURCE, SOURCE_KEY, raw, __import__("time").time(),
                             secrets.token_hex(8))
    return client.post("/api/v1/alerts", data=raw, headers=headers)


def _with_detected_at(literal: str) -> bytes:
    """An alert whose detected_at is a raw JSON literal (1e400 cannot be written by json.dumps)."""
    body = json.dumps(alert_body("a1", PHONE, detected_at="__X__"))
    return body.replace('"__X__"', literal).encode()


# -- alert ingest --------------------------------------------------------------------------------

@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity", "1" + "0" * 400, "-5",
                                     "0", "true", "[]", "{}", '"2024-13-45T00:00:00+08:00"',
                                     '"' + "9" * 5000 + '"', "32503680000"])
def test_an_impossible_detected_at_is_422_naming_the_field(client, redis, config, literal):
    response = post_raw(client, _with_detected_at(literal))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["detected_at"]
    assert queued(redis, config) == 0


def test_one_bad_detected_at_does_not_fail_the_rest_of_the_batch(client, redis, config):
    good = json.dumps(alert_body("good1", PHONE))
    bad = _with_detected_at("1e400").decode().replace('"a1"', '"bad1"')
    response = post_raw(client, f"[{good}, {bad}]".encode())
    assert response.status_code == 202
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["accepted", "invalid"]
    assert results[1]["errors"][0]["field"] == "detected_at"
    assert queued(redis, config) == 1


@pytest.mark.parametrize("raw,status", [
    (b"not json", 400), (b"\xff\xfe{", 400), (b"[" * 100_000 + b"]" * 100_000, 400),
    (b"[]", 422), (b"{}", 422), (b'{"alerts": 5}', 422), (b'{"alerts": []}', 422),
    (b'{"alerts": {"a": 1}}', 422), (b"[1, 2, 3]", 422), (b'["x"]', 422), (b"[[]]", 422),
    (b"null", 422), (b"5", 422), (b'"text"', 422),
])
def test_a_malformed_batch_is_refused_whole_with_a_4xx(client, redis, config, raw, status):
    response = post_raw(client, raw)
    assert response.status_code == status
    assert queued(redis, config) == 0


def test_an_alert_with_thousands_of_unknown_fields_gets_a_short_answer(client, redis, config):
    body = alert_body("a1", PHONE, **{f"junk{i}": i for i in range(5000)})
    raw, headers = sign(body)
    response = client.post("/api/v1/alerts", data=raw, headers=headers)
    assert response.status_code == 422
    assert len(response.get_json()["errors"]) <= 10
    assert queued(redis, config) == 0


@pytest.mark.parametrize("header,value", [
    ("X-Alert-Signature", "é" * 64), ("X-Alert-Signature", "ａ" * 64),
    ("X-Alert-Timestamp", "²"), ("X-Alert-Timestamp", "１７００００００００"),
    ("X-Alert-Nonce", "nonce-é-0001"), ("X-Alert-Source", "démo"),
])
def test_non_ascii_in_an_alert_signature_header_is_401(client, redis, config, header, value):
    raw, headers = sign(alert_body("a1", PHONE))
    headers[header] = value
    response = client.post("/api/v1/alerts", data=raw, headers=headers)
    assert response.status_code == 401
    assert queued(redis, config) == 0


# -- tokens in links and headers -----------------------------------------------------------------

@pytest.mark.parametrize("token", ["é.é", "abc.déf", "ａｂｃ.ｄｅｆ", "%00.%00", "a" * 600 + ".b"])
def test_a_mangled_answer_link_token_is_404(client, token):
    assert client.get(f"/alerts/answer/{token}").status_code == 404
    assert client.post(f"/alerts/answer/{token}", data={"answer": "paid"}).status_code == 404


@pytest.mark.parametrize("header", ["Bearer é", "Bearer 令牌", "é", "Bearer " + "\u00ff" * 40])
def test_a_non_ascii_metrics_bearer_token_is_401(redis, redis_url, header):
    from app import create_app

    config = make_config(redis_url, console={"metrics_token": "metrics-token-0123456789"})
    client = create_app(config, redis).test_client()
    assert client.get("/metrics", headers={"Authorization": header}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-0123456789"})
    assert ok.status_code == 200


@pytest.mark.parametrize("sent", ["é", "令牌", "ａｂｃ"])
def test_a_non_ascii_csrf_token_is_400_and_changes_nothing(login_as, redis, sent):
    client = login_as("admin")
    client.environ_base["HTTP_X_CSRF_TOKEN"] = sent
    before = redis.dbsize()
    response = client.post("/api/v1/accounts", json={"username": "someone", "role": "duty",
                                                     "password": "long-enough-password"})
    assert response.status_code == 400
    assert redis.dbsize() == before


@pytest.mark.parametrize("signature", ["é" * 40, "令" * 40, "ａ" * 40])
def test_a_non_ascii_webhook_signature_is_refused(client, config, redis, signature):
    query = wx.signed_query(config) | {"signature": signature}
    response = client.post("/wechat", query_string=query, data=wx.text_xml("o_user", "hi"),
                           content_type="text/xml")
    assert response.status_code == 403
    assert redis.dbsize() == 0


# -- list query parameters -----------------------------------------------------------------------

# (path, parameters it pages or filters by) for every api/* list endpoint.
LISTS = [
    ("/api/v1/alerts", ("limit", "before_ms", "day")),
    ("/api/v1/alerts/unregistered", ("days",)),
    ("/api/v1/alerts/urgent", ("limit", "cursor")),
    ("/api/v1/alerts/callbacks", ("limit", "cursor")),
    ("/api/v1/dead-letters", ("limit", "queue")),
    ("/api/v1/audit", ("limit", "before")),
    ("/api/v1/clues", ("limit", "before_ms", "status")),
    ("/api/v1/broadcasts/b1/runs", ("limit",)),
    ("/api/v1/registration/stats", ("days",)),
]
BAD_VALUES = {"limit": ["abc", "0", "-1", "1.5", "１０", "²", "1e3", "9" * 40],
              "days": ["abc", "0", "-1", "１", "9" * 40],
              "before_ms": ["abc", "-1", "1.5", "１", "9" * 40],
              "before": ["abc", "-1", "1-", "１-0", "$", "9" * 40 + "-0"],
              "day": ["2024", "20241301", "abc", "２０２４０１０１", "-1"],
              "status": ["everything", "é"],
              "queue": ["nope", "é"],
              "cursor": ["abc", ":a1", "1:", "１:a1", "1:é", "9" * 40 + ":a1"]}


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.mark.parametrize("path,name,value", [(path, name, value) for path, names in LISTS
                                             for name in names for value in BAD_VALUES[name]])
def test_a_bad_list_parameter_is_400_naming_it(admin, redis, path, name, value):
    before = redis.dbsize()
    response = admin.get(path, query_string={name: value})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["field"] == name
    assert redis.dbsize() == before


@pytest.mark.parametrize("path", [p for p, names in LISTS if "limit" in names
                                  and "{" not in p and "b1" not in p])
def test_a_huge_limit_is_clamped_to_the_page_cap(admin, path):
    response = admin.get(path, query_string={"limit": "1000000"})
    assert response.status_code == 200


def test_the_alert_list_never_returns_more_than_its_cap(admin, redis, config):
    from alerts.store import AlertStore
    from api.alerts import MAX_LIST

    store = AlertStore(redis, 86400)
    now_ms = 1_700_000_000_000
    from alerts.model import day_of
    day = day_of(now_ms)
    for i in range(MAX_LIST + 5):
        store.create(f"cap{i}", {"status": "received", "received_ms": str(now_ms + i)}, [])
        store.index(f"cap{i}", now_ms + i, day, [])
    rows = admin.get("/api/v1/alerts", query_string={"day": day, "limit": "999999"}).get_json()
    assert len(rows["alerts"]) == MAX_LIST


# -- dead-letter retries and call-back outcomes ---------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/dead-letters/bot/{id}/retry",
                                  "/api/v1/alerts/dead-letters/{id}/retry"])
@pytest.mark.parametrize("entry_id", ["abc", "1-x", "１-0", "-", "+", "(1-0", "9" * 20 + "-0",
                                      "9" * 40 + "-0"])
def test_retrying_a_dead_letter_by_a_malformed_id_is_404_and_changes_nothing(admin, redis, path,
                                                                           entry_id):
    before = redis.dbsize()
    response = admin.post(path.format(id=entry_id))
    assert response.status_code == 404
    assert redis.dbsize() == before


# -- JSON text that is not text ------------------------------------------------------------------

@pytest.mark.parametrize("method,path,body", [
    ("put", "/api/v1/content/reply/help_96110", '{"fields": [], "text": "请拨打96110\\ud800"}'),
    ("post", "/api/v1/content/article", '{"id": "\\udc00", "title": "t"}'),
    ("post", "/api/v1/broadcasts", '{"title": "\\ud800"}'),
    ("post", "/api/v1/stations", '{"id": "s9", "name": ["\\ud83d"]}'),
    ("post", "/api/v1/accounts", '{"username": "u1", "password": "long-enough-\\udfff"}'),
])
def test_a_lone_surrogate_in_a_json_body_is_400_and_changes_nothing(admin, redis, method, path,
                                                                    body):
    # JSON may spell "\ud800", which is no character: Redis and WeChat cannot take it.
    before = redis.dbsize()
    response = getattr(admin, method)(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert redis.dbsize() == before


def test_an_escaped_emoji_surrogate_pair_is_ordinary_text(admin):
    response = admin.post("/api/v1/stations", data='{"id": "s9", "name": "派出所\\ud83d\\ude93"}',
                          content_type="application/json")
    assert response.status_code == 201
    assert response.get_json()["name"] == "派出所🚓"


def test_a_lone_surrogate_in_a_signed_alert_batch_is_400_not_500(client, redis, config):
    raw = json.dumps([alert_body("a1", PHONE, counterpart="x\ud800"), alert_body("a2", PHONE)])
    response = post_raw(client, raw.encode())
    assert response.status_code == 400
    assert queued(redis, config) == 0
