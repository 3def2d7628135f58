"""The risk list: sightings counted per normalised value, looked up by any spelling."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from intel import risklist
from store import keys
from store.redis import RedisClient
from tests.conftest import RISK_KEY, make_config


def listed(redis: RedisClient, value: str) -> dict[str, Any]:
    """The risk-list record of ``value``, which the test expects to be there."""
    record = risklist.lookup(redis, RISK_KEY, value)
    assert record is not None, value
    return record


def test_spellings_of_one_mobile_number_count_as_one_value(redis):
    risklist.record_counterpart(redis, RISK_KEY, "+86 138-1234-5678", "police", "alert", now=1000)
    risklist.record_counterpart(redis, RISK_KEY, "13812345678", "police", "alert", now=2000)

    record = listed(redis, "138 1234 5678")

    assert record["count"] == 2
    assert (record["first_seen"], record["last_seen"]) == (1000, 2000)


def test_url_and_bare_domain_meet_on_the_host(redis):
    risklist.record_counterpart(redis, RISK_KEY,
                                "https://www.Fake-ETC.cn/login?id=1", "phishing_link",
                                "alert", now=1000)

    assert listed(redis, "fake-etc.cn")["fraud_type"] == "phishing_link"


def test_shortener_links_are_told_apart_by_their_case_sensitive_path(redis):
    risklist.record_counterpart(redis, RISK_KEY,
                                "http://t.cn/A6aBc", "phishing_link", "alert", now=1000)

    assert risklist.lookup(redis, RISK_KEY, "t.cn/A6aBc") is not None
    assert risklist.lookup(redis, RISK_KEY, "t.cn/a6abc") is None


def test_the_most_frequent_fraud_type_is_reported(redis):
    for fraud_type in ("police", "investment", "investment"):
        risklist.record_counterpart(redis, RISK_KEY, "01012345678", fraud_type, "alert", now=1000)

    record = listed(redis, "010-1234-5678")

    assert record["fraud_type"] == "investment"
    assert record["fraud_types"] == {"police": 1, "investment": 2}


def test_an_out_of_order_sighting_does_not_move_last_seen_back(redis):
    risklist.record_counterpart(redis, RISK_KEY, "13812345678", "police", "alert", now=2000)
    risklist.record_counterpart(redis, RISK_KEY, "13812345678", "police", "alert", now=1000)

    record = listed(redis, "13812345678")

    assert (record["first_seen"], record["last_seen"]) == (1000, 2000)


def test_numbers_are_not_stored_in_plain_text(redis):
    risklist.record_counterpart(redis, RISK_KEY, "13812345678", "police", "alert", now=1000)

    dump = [(k, redis.hgetall(k)) for k in redis.keys("*")]

    assert "13812345678" not in repr(dump)
    assert listed(redis, "13812345678")["display"] == "138****5678"


def test_text_that_is_no_number_or_link_is_neither_recorded_nor_found(redis):
    assert risklist.record_counterpart(redis, RISK_KEY, "你好", "police", "alert", now=1000) is None
    assert risklist.lookup(redis, RISK_KEY, "你好") is None
    assert redis.dbsize() == 0


def test_an_unknown_value_is_not_on_the_list(redis):
    assert risklist.lookup(redis, RISK_KEY, "13900000000") is None


def test_a_promoted_clue_marks_the_value_confirmed(redis):
    risklist.promote(redis, RISK_KEY,
                     "fake-bank.top", "phishing_link", "duty1", now=1000, clue_id="7")

    record = listed(redis, "http://fake-bank.top/")

    assert record["confirmed"] is True
    assert record["sources"] == {"report": 1}


@pytest.mark.parametrize("value", ["13812345678", "fake-etc.cn"])
def test_recording_and_lookup_work_on_a_cluster(cluster_redis, value):
    risklist.record_counterpart(cluster_redis, RISK_KEY, value, "police", "alert", now=1000)
    risklist.promote(cluster_redis, RISK_KEY, value, "police", "duty1", now=2000)

    assert listed(cluster_redis, value)["count"] == 2


def test_full_width_circled_and_invisible_characters_meet_the_plain_number(redis):
    risklist.record_counterpart(redis, RISK_KEY, "13812345678", "police", "alert", now=1000)

    assert listed(redis, "１３８\u200b１２３４５６７８")["count"] == 1
    assert listed(redis, "①③⑧12345678")["count"] == 1


def test_a_numbers_entry_cannot_be_found_by_hashing_candidate_numbers(redis):
    # A plain digest of a number is no secret: anyone with the data could hash all 10^10
    # numbers. Only the configured key finds the entry.
    risklist.record_counterpart(redis, RISK_KEY, "13812345678", "police", "alert", now=1000)
    (stored,) = list(redis.scan_iter("risk:*"))
    plain = hashlib.sha256(b"mobile:13812345678").hexdigest()[:32]
    normalized = risklist.normalize("13812345678")
    assert normalized is not None
    assert stored == keys.risk_entry(normalized.digest(RISK_KEY))
    assert plain not in stored and "13812345678" not in stored
    assert "13812345678" not in str(redis.hgetall(stored))
    other_key = risklist.risk_key(make_config(privacy={"phone_hmac_key": "another"}).privacy)
    assert risklist.lookup(redis, other_key, "13812345678") is None
    assert other_key != RISK_KEY
