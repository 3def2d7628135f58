"""The simulator's template keyword rules against the examples in WeChat's own parameter table
(https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html)."""

from __future__ import annotations

import pytest

from sandbox.keywords import keyword_type, refusal

# (keyword, value) pairs the documentation shows or describes as valid.
ACCEPTED = [
    ("thing1", "TIT创意园"), ("thing1", "广州市新港中路397号"), ("thing1", "a" * 20),
    ("number01", "339208499"), ("number1", "3.14"), ("letter1", "abcXYZ"),
    ("symbol1", "%-+"), ("character_string1", "TX-20190101-0001"),
    ("character_string1", "x" * 32),
    ("time1", "15:01"), ("time1", "2019年10月1日 15:01"), ("time1", "15:01~16:30"),
    ("date01", "2015年01月05日"), ("date1", "2019年10月1日 15:01"),
    ("amount1", "¥100.50"), ("amount1", "￥1000元"),
    ("phone_number1", "+86-0766-66888866"), ("phone_number1", "138****8000"),
    ("car_number1", "粤A8Z888挂"), ("name1", "张三"), ("name1", "Alice Smith".replace(" ", "")),
    ("phrase1", "配送中"), ("phrase1", "货物配送中"),
    ("keyword1", "pre-2023 templates are not checked by type"),
]

REFUSED = [
    ("thing1", "a" * 21), ("thing1", ""), ("thing1", "换行\n不行"),
    ("number1", "12a"), ("number1", "1" * 33), ("letter1", "abc1"), ("symbol1", "%%%%%%"),
    ("character_string1", "某某APP"), ("character_string1", "x" * 33),
    ("time1", "2019-10-01 15:01"), ("time1", "3pm"), ("time1", "25:00"),
    ("date1", "10/01/2019"), ("amount1", "100"), ("amount1", "¥12345678901"),
    ("phone_number1", "138 0013 8000"), ("phone_number1", "1" * 18), ("phone_number1", "call me"),
    ("car_number1", "粤A8Z888挂X"), ("name1", "张" * 11), ("name1", "a" * 21),
    ("phrase1", "风险极高请注意"), ("phrase1", "OK"),
]


@pytest.mark.parametrize("keyword, value", ACCEPTED)
def test_documented_values_are_accepted(keyword: str, value: str) -> None:
    assert refusal(keyword, value) is None


@pytest.mark.parametrize("keyword, value", REFUSED)
def test_values_outside_the_documented_type_are_refused(keyword: str, value: str) -> None:
    assert refusal(keyword, value) is not None


def test_keyword_type_is_the_name_without_its_number() -> None:
    assert keyword_type("character_string3") == "character_string"
    assert keyword_type("phone_number12") == "phone_number"
    assert keyword_type("keyword1") is None and keyword_type("thing") is None
