"""The features' pages in a real browser: answer a call-back, schedule a broadcast, download a
poster (the three things the issue's proof names), each with a screenshot."""

from __future__ import annotations

import io
import re
import time
import zipfile

from console import audit
from registration import directory as d
from store.phones import PhoneVault
from tests.browser.conftest import login, shot


def _need(app, endpoint: str) -> None:
    # A renamed or removed endpoint is a failure, never a skip.
    assert endpoint in app.view_functions, f"{endpoint} is not routed: renamed or removed?"


def test_duty_desk_answers_a_96110_call_back(page, live_server, staff, app, redis, config):
    _need(app, "alerts_api.callbacks")
    from alerts.store import AlertStore

    now_ms = int(time.time() * 1000)
    store = AlertStore(redis, 86400)
    phone_enc = PhoneVault.from_config(config.privacy).encrypt("13812345678")
    store.create("a1", {"status": "urgent", "stations": "s1", "received_ms": now_ms,
                        "phone_enc": phone_enc, "fraud_type": "impersonation"},
                 [{"event": "received", "actor": "platform", "at_ms": now_ms}])
    store.add_callback({"id": "a1:paid", "alert_id": "a1", "reason": "paid",
                        "created_ms": now_ms, "status": "open", "phone_enc": phone_enc,
                        "fraud_type": "impersonation", "channel": "call", "counterpart": "",
                        "risk_level": "high", "stations": ["s1"], "attempts": []})
    staff("desk", "duty")
    login(page, live_server, "desk")
    page.click("nav >> text=96110回拨")
    table = page.locator("[data-testid=callbacks]")
    table.locator("text=138****5678").wait_for()
    assert "13812345678" not in table.inner_text()
    shot(page, "callbacks-queue")
    page.select_option("form[data-outcome='a1:paid'] select[name=outcome]", "reached_paid")
    page.fill("form[data-outcome='a1:paid'] input[name=note]", "已告知止付")
    page.click("form[data-outcome='a1:paid'] button")
    page.locator("text=回拨队列为空").wait_for()
    assert page.locator("#message").inner_text().startswith("已记录")
    shot(page, "callbacks-answered")
    entry = store.callback("a1:paid")
    assert entry is not None and entry["status"] == "done"
    assert [e["event"] for e in store.timeline("a1")][-1] == "callback"
    assert audit.entries(redis, action="alert.callback")[0]["actor"] == "desk"


def test_propaganda_staff_schedules_a_broadcast(page, live_server, staff, app, redis):
    _need(app, "broadcasts_api.create_broadcast")
    staff("xuan", "propaganda")
    login(page, live_server, "xuan")
    page.click("nav >> text=群发")
    page.fill("input[name=title]", "本周防骗提醒")
    page.locator("#articles option").first.wait_for(state="attached")
    page.select_option("#articles", index=0)
    page.select_option("select[name=schedule_kind]", "cron")
    page.fill("input[name=cron]", "0 9 * * mon")
    page.click("#broadcast-form button[type=submit]")
    page.locator("#message.notice").wait_for()
    row = page.locator("[data-testid=broadcasts] tr", has_text="本周防骗提醒")
    assert "已排期" in row.inner_text()
    shot(page, "broadcast-scheduled")
    row.locator("button[data-act=pause]").click()
    page.locator("[data-testid=broadcasts] tr", has_text="已暂停").wait_for()
    assert [e["action"] for e in audit.entries(redis, action="broadcast.")][:2] == \
        ["broadcast.pause", "broadcast.create"]


def test_officer_previews_and_downloads_posters(page, live_server, staff, app, redis):
    _need(app, "registration.station_posters")
    d.save_station(redis, d.Station("s1", "城东派出所"))
    d.save_community(redis, d.Community("c1", "幸福社区", "s1"))
    d.save_officer(redis, d.Officer("o1", "王警官", "012345", "s1", "c1"))
    staff("wang", "officer", "s1")
    login(page, live_server, "wang")
    page.click("nav >> text=站点与海报")
    page.locator("#officers >> text=王警官").wait_for()
    page.click("#officers button[data-preview]")
    # Polled from Python: wait_for_function compiles its predicate with eval(), which the
    # console's Content-Security-Policy rightly refuses.
    deadline = time.monotonic() + 60
    while page.evaluate("() => document.getElementById('preview').naturalWidth") == 0:
        assert time.monotonic() < deadline, "poster preview never loaded"
        page.wait_for_timeout(50)
    shot(page, "poster-preview")
    with page.expect_download() as single:
        page.click("#officers a:has-text('下载PNG')")
    assert single.value.suggested_filename == "officers-o1.png"
    assert single.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as bundle:
        page.click("#zip-link")
    names = zipfile.ZipFile(io.BytesIO(bundle.value.path().read_bytes())).namelist()
    assert sorted(names) == ["community-c1.png", "community-c1.svg",
                             "officer-o1.png", "officer-o1.svg"]


def test_officer_generates_a_wechat_link_code_for_a_colleague(page, live_server, staff, app,
                                                              redis):
    d.save_station(redis, d.Station("s1", "城东派出所"))
    d.save_officer(redis, d.Officer("o1", "王警官", "012345", "s1"))
    staff("wang", "officer", "s1")
    login(page, live_server, "wang")
    page.click("nav >> text=站点与海报")
    page.locator("#officers >> text=未绑定").wait_for()
    page.click("#officers button[data-link-officer=o1]")
    notice = page.locator("#message.notice")
    notice.wait_for()
    assert re.search(r"警员绑定 \d{8}", notice.inner_text())
    assert [e["action"] for e in audit.entries(redis, action="registration.officers.")][:1] == \
        ["registration.officers.link_code"]


def test_duty_desk_sees_urgent_case_on_top_and_ticks_the_stop_payment_checklist(
        page, live_server, staff, app, redis, config):
    _need(app, "alerts_api.urgent_cases")
    import json

    from alerts.model import CHECKLIST, day_of
    from alerts.store import AlertStore

    now_ms = int(time.time() * 1000)
    store = AlertStore(redis, 86400)
    phone_enc = PhoneVault.from_config(config.privacy).encrypt("13900001111")
    store.create("a9", {"status": "urgent", "stations": "s1", "received_ms": now_ms,
                        "phone_enc": phone_enc, "fraud_type": "investment", "answer": "paid",
                        "checklist": json.dumps(dict.fromkeys(CHECKLIST))},
                 [{"event": "received", "actor": "platform", "at_ms": now_ms}])
    store.index("a9", now_ms, day_of(now_ms), ["s1"])
    store.add_urgent_case("a9", now_ms, ["s1"])
    staff("desk", "duty")
    login(page, live_server, "desk")
    page.click("nav >> text=预警台")
    urgent = page.locator("[data-testid=urgent]")
    urgent.locator("text=139****1111").wait_for()
    page.locator("[data-testid=alerts] >> text=139****1111").wait_for()
    first = urgent.locator("input[type=checkbox]").first
    first.check()
    page.locator("#message.notice").wait_for()
    page.click("[data-testid=alerts] tr[data-timeline='a9']")
    page.locator("#timeline li").first.wait_for()
    shot(page, "alert-desk")
    assert json.loads(store.get("a9")["checklist"])[CHECKLIST[0]]
