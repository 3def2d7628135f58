"""Pure decisions: validation, answers, template values, links, signatures."""

from __future__ import annotations

from alerts import links, messages, signing
from alerts.model import classify_answer, parse_detected_at, validate_alert
from config import AlertsConfig
from content.library import load_library

TYPES = {"police", "other"}


def test_detected_at_accepts_unix_seconds_and_iso_with_offset():
    assert parse_detected_at(1700000000.5) == 1700000000500
    assert parse_detected_at("2023-11-14T22:13:20+00:00") == 1700000000000


def test_phone_in_international_format_is_normalised():
    alert, errors = validate_alert({"alert_id": "x", "phone": "+86 138-0013-8000",
                                    "fraud_type": "police", "channel": "sms",
                                    "counterpart": "10690000", "risk_level": "low",
                                    "detected_at": 1_700_000_000, "source": "p"},
                                   fraud_types=TYPES, source="p", now=1_700_000_001)
    assert errors == [] and alert is not None
    assert alert.phone == "13800138000" and alert.source == "p"


def test_unknown_fields_are_reported():
    _, errors = validate_alert({"extra": 1}, fraud_types=TYPES, source="p", now=0)
    assert "extra" in {e.field for e in errors}


def test_answers_are_anchored():
    assert classify_answer("1") == "safe" and classify_answer("已挂断") == "safe"
    assert classify_answer("2") == "paid" and classify_answer("需要帮助") == "paid"


def test_a_full_width_answer_digit_is_the_same_answer():
    assert classify_answer("２") == "paid" and classify_answer(" １ ") == "safe"
    assert classify_answer("２" * 2) is None
    assert classify_answer("12") is None and classify_answer("我已转账了吗") is None


def test_template_values_fit_keyword_limits():
    facts = messages.WarningFacts("a1", "investment", "call", "https://" + "x" * 80 + ".cn",
                                  "high", 0, "138****8000")
    values = messages.template_values(load_library(), facts, "alert_value_advice")
    data = messages.template_data(AlertsConfig().template_fields, values)
    assert len(data["character_string3"]["value"]) == 32
    assert len(data["thing1"]["value"]) <= 20


def test_answer_link_round_trips_and_rejects_tampering_and_expiry():
    token = links.make_token("k" * 20, "a1", "openid1", 100)
    assert links.read_token("k" * 20, token, 50) == links.AnswerToken("a1", "openid1", 100)
    assert links.read_token("k" * 20, token, 101) is None
    assert links.read_token("other-key-123456", token, 50) is None


def test_signature_covers_the_nonce():
    config = AlertsConfig(source_keys=("p:0123456789abcdef",))
    headers = signing.signed_headers("p", "0123456789abcdef", b"{}", 1000, "nonce-0001")
    assert signing.check_signature(config, headers, b"{}", 1000).source == "p"
    headers["X-Alert-Nonce"] = "nonce-0002"
    try:
        signing.check_signature(config, headers, b"{}", 1000)
    except signing.SignatureRefused as exc:
        assert exc.status == 401
    else:
        raise AssertionError("a swapped nonce must break the signature")


def test_alert_signature_matches_a_known_answer_vector():
    # Expected value from OpenSSL, not from our code:
    #   printf '1700000000\nnonce-0001\n{"alert_id":"a1"}' \
    #     | openssl dgst -sha256 -hmac 0123456789abcdef
    expected = "cdbd6d3060ae546e87260eac061e0610487e2395a8e24986981d72ca8a86c25f"
    assert signing.sign("0123456789abcdef", "1700000000", "nonce-0001",
                        b'{"alert_id":"a1"}') == expected
    config = AlertsConfig(source_keys=("p:0123456789abcdef",))
    headers = {"X-Alert-Source": "p", "X-Alert-Timestamp": "1700000000",
               "X-Alert-Nonce": "nonce-0001", "X-Alert-Signature": expected.upper()}
    assert signing.check_signature(config, headers, b'{"alert_id":"a1"}', 1_700_000_010).nonce \
        == "nonce-0001"
