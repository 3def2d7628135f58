"""Known-answer vectors for the two MACs of the alerts feature, computed outside our code, so a
change that breaks compatibility with the platform (or with links already sent) fails here.

Vectors made with OpenSSL 3 in bash:

    printf '%s\\n%s\\n%s' 1700000000 nonce-0001 '{"alert_id":"kat1"}' \\
        | openssl dgst -sha256 -hmac 0123456789abcdef -hex
    payload=$(printf 'a1 openid1 1700003600' | base64 | tr '+/' '-_' | tr -d '=')
    printf 'alert-answer:%s' "$payload" | openssl dgst -sha256 -hmac kkkkkkkkkkkkkkkkkkkk -binary \\
        | head -c 16 | base64 | tr '+/' '-_' | tr -d '='
"""

from __future__ import annotations

import requests

from alerts import links, signing
from config import AlertsConfig
from tests.alerts.conftest import alert_body, sign

ALERT_BODY = b'{"alert_id":"kat1"}'
ALERT_SIGNATURE = "6b96041e6502ffc5225cc8b499d7b87f8db9690c812868abf393a69462e4fd53"
LINK_SECRET = "k" * 20
LINK_TOKEN = "YTEgb3BlbmlkMSAxNzAwMDAzNjAw.ZFAKTuvVPXDqZXyb41o-Ig"


def test_alert_signature_matches_the_openssl_vector():
    config = AlertsConfig(source_keys=("p:0123456789abcdef",))
    headers = {"X-Alert-Source": "p", "X-Alert-Timestamp": "1700000000",
               "X-Alert-Nonce": "nonce-0001", "X-Alert-Signature": ALERT_SIGNATURE}
    assert signing.check_signature(config, headers, ALERT_BODY, 1700000000).source == "p"


def test_answer_link_token_matches_the_openssl_vector():
    assert links.make_token(LINK_SECRET, "a1", "openid1", 1700003600) == LINK_TOKEN
    assert links.read_token(LINK_SECRET, LINK_TOKEN, 1700000000) == links.AnswerToken(
        "a1", "openid1", 1700003600)


def test_answer_link_with_non_ascii_characters_is_refused_not_a_crash():
    assert links.read_token(LINK_SECRET, LINK_TOKEN[:-2] + "é1", 1700000000) is None
    assert links.read_token(LINK_SECRET, "é." + LINK_TOKEN.split(".")[1], 1700000000) is None


def test_a_tampered_alert_body_is_refused_by_the_ingest_api(live):
    raw, headers = sign(alert_body("t1"))
    tampered = raw.replace(b'"medium"', b'"high"')
    response = requests.post(live.app_url + "/api/v1/alerts", data=tampered, headers=headers,
                             timeout=10)
    assert response.status_code == 401
    assert live.redis.xlen(live.queue.stream) == 0  # nothing accepted
    assert requests.post(live.app_url + "/api/v1/alerts", data=raw, headers=headers,
                         timeout=10).status_code == 202
