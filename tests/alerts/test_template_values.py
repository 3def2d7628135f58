"""Warning template values WeChat accepts, whatever the platform reports as the counterpart.

The simulator refuses what WeChat refuses (47003, sandbox/keywords.py, checked against the
documentation's own examples); these tests hold our converter to it.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts import messages
from config import AlertsConfig
from content.library import load_library
from sandbox.keywords import RULES, refusal
from tests.alerts.conftest import alert_body

PHONE = "13800138000"
COUNTERPARTS = ["某某理财APP", "【工商银行】客服中心",
                "https://" + "x" * 80 + ".cn/登录",
                "+86 １３９ ００１３ ８０００", "王警官", "☎️📱"]


@pytest.mark.parametrize("counterpart", COUNTERPARTS)
def test_a_warning_about_any_counterpart_is_accepted_by_wechat(live, counterpart):
    owner = live.follower(phone=PHONE)
    assert live.post(alert_body("a1", counterpart=counterpart)).status_code == 202
    live.run_jobs()
    (message,) = live.templates(owner)
    for keyword, field in message["payload"]["data"].items():
        assert refusal(keyword, field["value"]) is None


@pytest.mark.parametrize("keyword, value, expected", [
    ("character_string3", "某某理财APP", "APP"),
    ("character_string3", "某某理财", messages.BLANK),
    ("character_string3", "https://" + "x" * 40, "https://" + "x" * 21 + "..."),
    ("phone_number2", "+86 １３９-0013-8000", "+86139-0013-8000"),
    ("time4", "2024-05-01 10:00:00", "2024年05月01日 10:00"),
    ("date1", "2024-05-01 10:00:00", "2024年05月01日"),
    ("thing1", "疑似冒充客服诈骗来电请立即挂断并拨打九六一一零",
     "疑似冒充客服诈骗来电请立即挂断并拨打九…"),
    ("phrase5", "风险:极高", "风险极高"),
    ("amount1", "被骗5000.5元", "¥5000.5"),
    ("name1", "王警官 Wang", "王警官Wang"),
])
def test_values_are_converted_to_their_keyword_type(keyword, value, expected):
    assert messages.fit_keyword(keyword, value) == expected


def test_a_time_we_did_not_format_is_a_configuration_error():
    with pytest.raises(ValueError):
        messages.fit_keyword("time4", "yesterday")


TYPED = sorted(set(RULES) - {"phrase"})


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(TYPED), value=st.text(max_size=80))
def test_any_text_converted_for_a_keyword_type_is_accepted(kind, value):
    try:
        fitted = messages.fit_keyword(f"{kind}1", value)
    except ValueError:
        # Only our own formatted times reach time/date; a plate needs letters or digits.
        assert kind in ("time", "date", "car_number")
        return
    assert refusal(f"{kind}1", fitted) is None


@settings(max_examples=200, deadline=None)
@given(counterpart=st.text(max_size=200), detected_ms=st.integers(0, 4_102_444_800_000))
def test_default_template_data_from_any_platform_data_is_accepted(counterpart, detected_ms):
    facts = messages.WarningFacts("a1", "investment", "app", counterpart, "high", detected_ms,
                                  "138****8000")
    values = messages.template_values(load_library(), facts, "alert_value_advice")
    data = messages.template_data(AlertsConfig().template_fields, values)
    assert {k: refusal(k, v["value"]) for k, v in data.items()} == dict.fromkeys(data)
