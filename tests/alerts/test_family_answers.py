"""Owner and guardian both warned: every answer counts, "已转账" is never lost.

Each test drives the real flow: an alert posted to the ingest API, warnings delivered through
the WeChat simulator, answers sent as the citizens' WeChat messages (or posted on their answer
links), and the desk read through the console API.
"""

from __future__ import annotations

import time

import pytest
import requests

from alerts.escalation import enqueue_due
from alerts.store import AlertStore
from registration.directory import Officer, Station, save_officer, save_station
from tests.alerts.conftest import alert_body
from tests.staff import sign_in

PHONE = "13900139000"


@pytest.fixture
def family(live):
    """Owner (scanned officer o1's code) and one guardian, both warned about alert a1."""
    officer_openid = live.sbx.new_citizen()
    live.sbx.follow(officer_openid)
    save_station(live.redis, Station("s1", "城关派出所"))
    save_officer(live.redis, Officer("o1", "张警官", "001234", "s1", "", officer_openid))
    owner = live.follower(phone=PHONE, scene="o:o1")
    guardian = live.follower(guards=PHONE)
    assert live.post(alert_body("a1", PHONE)).status_code == 202
    live.run_jobs()
    assert live.templates(owner) and live.templates(guardian)
    return {"owner": owner, "guardian": guardian, "officer": officer_openid}


def store(live) -> AlertStore:
    return AlertStore(live.redis, 86400)


def reply(live, openid: str, text: str) -> str:
    return live.sbx.send_text(openid, text)["content"]


def desk(live):
    """A duty officer's console client on the same Redis."""
    from app import create_app

    client = create_app(live.config, live.redis).test_client()
    sign_in(client, "duty", username="desk")
    return client


def link(live, openid: str) -> str:
    return live.templates(openid)[0]["payload"]["url"]


def events(live, name: str) -> list[dict]:
    return [e for e in store(live).timeline("a1") if e["event"] == name]


def test_owner_paid_after_guardian_safe_opens_the_urgent_case(live, family):
    assert reply(live, family["guardian"], "1") == live.ctx.library.reply("alert_answer_safe")
    assert reply(live, family["owner"], "2") == live.ctx.library.reply("alert_answer_paid")
    assert store(live).get("a1")["status"] == "urgent"
    assert [c["reason"] for c in store(live).open_callbacks()[0]] == ["paid"]
    assert store(live).urgent_cases()[0] == ["a1"]
    live.run_jobs()
    (notice,) = live.templates(family["officer"])
    assert notice["payload"]["data"]["thing5"]["value"].startswith("群众已转账")


def test_guardian_safe_never_overwrites_the_owner_paid(live, family):
    reply(live, family["owner"], "已转账")
    reply(live, family["guardian"], "安全")
    state = store(live).get("a1")
    assert state["status"] == "urgent" and state["answer"] == "paid"


def test_own_safe_after_own_paid_keeps_paid_and_repeats_the_paid_advice(live, family):
    reply(live, family["owner"], "2")
    assert reply(live, family["owner"], "1") == live.ctx.library.reply("alert_answer_paid")
    assert store(live).get("a1")["answer"] == "paid"


def test_desk_shows_the_owner_answer_first_and_the_guardian_paid_still_opens_the_case(
        live, family):
    reply(live, family["guardian"], "2")
    reply(live, family["owner"], "1")
    detail = desk(live).get("/api/v1/alerts/a1").get_json()
    assert detail["status"] == "urgent"
    assert detail["answer"] == "safe"
    assert [(a["role"], a["answer"]) for a in detail["answers"]] == [("owner", "safe"),
                                                                     ("guardian", "paid")]
    assert len(events(live, "case_opened")) == 1


def test_staff_closed_alert_stays_closed_and_a_late_paid_goes_on_its_timeline_only(
        live, family):
    client = desk(live)
    assert client.post("/api/v1/alerts/a1/close", json={"note": "已核实"}).status_code == 200
    assert reply(live, family["owner"], "2") == live.ctx.library.reply("alert_answer_closed")
    state = store(live).get("a1")
    assert state["status"] == "closed" and "case_opened_ms" not in state
    assert store(live).open_callbacks()[0] == [] and store(live).urgent_cases()[0] == []
    (late,) = events(live, "late_answer")
    assert late["detail"]["answer"] == "paid"


def test_guardian_safe_alone_does_not_cancel_the_owner_deadline(live, family):
    reply(live, family["guardian"], "1")
    later = time.time() + live.config.alerts.answer_timeout_s + 1
    assert enqueue_due(live.config, live.redis, live.queue, later) == 1
    live.run_jobs()
    assert store(live).get("a1")["status"] == "escalated"
    assert [c["reason"] for c in store(live).open_callbacks()[0]] == ["unanswered"]


def test_owner_safe_settles_the_alert(live, family):
    reply(live, family["guardian"], "1")
    reply(live, family["owner"], "安全")
    later = time.time() + live.config.alerts.answer_timeout_s + 1
    assert enqueue_due(live.config, live.redis, live.queue, later) == 0
    assert store(live).get("a1")["status"] == "answered"


def test_a_guardian_safe_settles_a_number_whose_owner_is_not_registered(live):
    guardian = live.follower(guards=PHONE)
    live.post(alert_body("a1", PHONE))
    live.run_jobs()
    reply(live, guardian, "1")
    later = time.time() + live.config.alerts.answer_timeout_s + 1
    assert enqueue_due(live.config, live.redis, live.queue, later) == 0
    assert store(live).open_callbacks()[0] == []


def test_answer_link_records_its_own_recipient_only(live, family):
    assert requests.post(link(live, family["guardian"]), data={"answer": "paid"},
                         timeout=5).status_code == 200
    detail = desk(live).get("/api/v1/alerts/a1").get_json()
    assert [(a["role"], a["answer"], a["via"]) for a in detail["answers"]] == [
        ("guardian", "paid", "link")]
    by_role = {r["role"]: r["answer"] for r in detail["recipients"]}
    assert by_role == {"owner": None, "guardian": "paid"}


def test_answer_link_cannot_flip_paid_back_to_safe(live, family):
    url = link(live, family["owner"])
    requests.post(url, data={"answer": "paid"}, timeout=5)
    page = requests.post(url, data={"answer": "safe"}, timeout=5)
    assert live.ctx.library.reply("alert_answer_paid") in page.text
    state = store(live).get("a1")
    assert state["answer"] == "paid" and state["status"] == "urgent"
    assert 'value="safe"' not in requests.get(url, timeout=5).text


def test_answer_link_posts_are_rate_limited(live, family):
    url = link(live, family["owner"])
    codes = [requests.post(url, data={"answer": "safe"}, timeout=5).status_code
             for _ in range(6)]
    assert codes == [200] * 5 + [429]
    # The guardian's own link is not affected.
    assert requests.post(link(live, family["guardian"]), data={"answer": "safe"},
                         timeout=5).status_code == 200


def test_answer_page_cannot_be_framed(live, family):
    response = requests.get(link(live, family["owner"]), timeout=5)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_repeated_answers_keep_the_timeline_bounded(live, family):
    for text in ["1", "1", "2", "1", "2", "安全", "已转账"] * 3:
        reply(live, family["owner"], text)
    answered = events(live, "answered")
    assert [e["detail"]["answer"] for e in answered] == ["safe", "paid"]
    assert len(events(live, "case_opened")) == 1
