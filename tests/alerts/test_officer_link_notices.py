"""An officer created without an openid links their WeChat with a code and then receives the
escalation notice when a citizen of their QR code answers 已转账 (the whole path, over HTTP)."""

from __future__ import annotations

from registration import officer_link
from registration.directory import Officer, Station, get_officer, save_officer, save_station
from tests.alerts.conftest import alert_body

PHONE = "13700137001"


def test_an_officer_linked_by_code_receives_the_paid_notice(live):
    save_station(live.redis, Station("s1", "城关派出所"))
    save_officer(live.redis, Officer("o1", "张警官", "001234", "s1"))
    officer_phone = live.sbx.new_citizen()
    live.sbx.follow(officer_phone)

    code = officer_link.issue_code(live.redis, "o1")
    reply = live.sbx.send_text(officer_phone, f"警员绑定 {code}")

    assert "张警官" in reply["content"]
    linked = get_officer(live.redis, "o1")
    assert linked is not None and linked.openid == officer_phone
    owner = live.follower(phone=PHONE, scene="o:o1")
    live.post(alert_body("a1", PHONE))
    live.run_jobs()
    live.sbx.send_text(owner, "已转账")
    live.run_jobs()
    (notice,) = live.templates(officer_phone)
    assert notice["payload"]["data"]["thing5"]["value"].startswith("群众已转账")
