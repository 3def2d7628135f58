"""Answers by reply keyword and by signed link; "已转账" opens an urgent case at once."""

from __future__ import annotations

import re

import requests

from alerts.store import AlertStore
from registration.directory import Officer, Station, save_officer, save_station
from tests.alerts.conftest import alert_body

PHONE = "13700137000"


def store(live) -> AlertStore:
    return AlertStore(live.redis, 86400)


def officer(live) -> str:
    """An officer who follows the account; returns their openid."""
    openid = live.sbx.new_citizen()
    live.sbx.follow(openid)
    save_station(live.redis, Station("s1", "城关派出所"))
    save_officer(live.redis, Officer("o1", "张警官", "001234", "s1", "", openid))
    return openid


def warned(live, scene=None) -> str:
    owner = live.follower(phone=PHONE, scene=scene)
    live.post(alert_body("a1", PHONE))
    live.run_jobs()
    return owner


def test_reply_1_records_safe_and_stops_escalation(live):
    owner = warned(live)
    reply = live.sbx.send_text(owner, "1")
    assert reply["content"] == live.ctx.library.reply("alert_answer_safe")
    state = store(live).get("a1")
    assert state["answer"] == "safe"
    assert store(live).due(2**62) == []


def test_the_safe_answer_to_a_warning_about_an_sms_gives_no_advice_about_police_calls(live):
    # The same "safe" reply follows every warning, so it must fit every fraud type and channel.
    owner = live.follower(phone=PHONE)
    live.post(alert_body("a1", PHONE, fraud_type="investment", channel="sms",
                         counterpart="10691234567"))
    live.run_jobs()

    reply = live.sbx.send_text(owner, "1")["content"]

    assert store(live).get("a1")["answer"] == "safe"
    assert "公检法" not in reply and "来电" not in reply


def test_reply_已转账_opens_an_urgent_case_with_callback_and_officer_notice(live):
    officer_openid = officer(live)
    owner = warned(live, scene="o:o1")
    live.sbx.send_text(owner, "已转账")
    state = store(live).get("a1")
    assert state["status"] == "urgent" and state["checklist"]
    assert [c["reason"] for c in store(live).open_callbacks()[0]] == ["paid"]
    assert store(live).urgent_cases()[0] == ["a1"]
    live.run_jobs()
    (notice,) = live.templates(officer_openid)
    assert notice["payload"]["data"]["thing5"]["value"].startswith("群众已转账")


def test_a_full_width_２_typed_by_a_chinese_input_method_opens_the_urgent_case(live):
    owner = warned(live)
    live.sbx.send_text(owner, "２")
    assert store(live).get("a1")["status"] == "urgent"


def test_digit_without_an_open_warning_is_left_to_other_handlers(live):
    openid = live.follower(phone=PHONE)
    reply = live.sbx.send_text(openid, "1")
    assert reply is None or reply["content"] != live.ctx.library.reply("alert_answer_safe")


def test_signed_link_records_the_answer(live):
    owner = warned(live)
    url = live.templates(owner)[0]["payload"]["url"]
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and 'value="paid"' in page.text
    assert requests.post(url, data={"answer": "paid"}, timeout=5).status_code == 200
    assert store(live).get("a1")["answer"] == "paid"
    timeline = store(live).timeline("a1")
    assert any(e["event"] == "answered" and e["detail"]["via"] == "link" for e in timeline)


def test_forged_link_is_refused(live):
    owner = warned(live)
    url = live.templates(owner)[0]["payload"]["url"]
    forged = re.sub(r"\.[^.]+$", ".AAAAAAAAAAAAAAAAAAAAAA", url)
    assert requests.post(forged, data={"answer": "safe"}, timeout=5).status_code == 404
    assert "answer" not in store(live).get("a1")
