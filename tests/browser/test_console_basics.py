"""Log in, see the dashboard, manage accounts and read the audit log in a real browser."""

from __future__ import annotations

from console import audit
from store import tallies
from store.streams import DurableQueue, Job
from tests.browser.conftest import login, shot


def test_admin_logs_in_and_sees_the_dashboard_with_charts(page, live_server, staff, redis):
    for name, amount in (("alerts_received_total", 120), ("alerts_warnings_sent_total", 110),
                         ("alerts_warnings_delivered_total", 100), ("alerts_answered_total", 64),
                         ("alerts_escalated_total", 9)):
        tallies.add(redis, name, amount)
    tallies.observe(redis, "alerts_warning_latency_seconds", 0.8)
    staff("chief", "admin")
    login(page, live_server, "chief")
    page.wait_for_url("**/console/dashboard")
    assert page.locator("h1").inner_text().startswith("概览")
    funnel = page.locator("[data-testid=funnel-chart] svg")
    assert "120" in funnel.inner_html() and "53%" in funnel.inner_html()
    shot(page, "dashboard-laptop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.locator("[data-testid=funnel-chart] svg").bounding_box()["width"] <= 390
    shot(page, "dashboard-phone")


def test_wrong_password_shows_a_chinese_error(page, live_server, staff):
    staff("chief", "admin")
    login(page, live_server, "chief", "not the password")
    assert "用户名或密码错误" in page.locator("[role=alert]").inner_text()


def test_admin_creates_an_officer_account_and_the_audit_log_shows_it(page, live_server, staff):
    staff("chief", "admin")
    login(page, live_server, "chief")
    page.click("nav >> text=账号")
    page.fill("input[name=username]", "officer_wang")
    page.fill("input[name=password]", "a long password")
    page.select_option("select[name=role]", "officer")
    page.fill("input[name=station]", "s1")
    page.click("form >> text=创建")
    assert page.locator("td", has_text="officer_wang").count() == 1
    page.click("nav >> text=审计日志")
    page.fill("input[name=action]", "account.")
    page.click("text=筛选")
    table = page.locator("[data-testid=audit-table]").inner_text()
    assert "account.create" in table and "officer_wang" in table
    shot(page, "audit-log")


def test_propaganda_staff_sees_no_accounts_menu_and_is_refused_the_page(page, live_server, staff):
    staff("xuan", "propaganda")
    login(page, live_server, "xuan")
    page.wait_for_url("**/console/dashboard")
    assert page.locator("nav >> text=账号").count() == 0
    page.goto(f"{live_server}/console/accounts")
    assert "无权访问" in page.locator("h1").inner_text()


def test_duty_desk_retries_a_dead_letter(page, live_server, staff, redis, config):
    queue = DurableQueue(redis, "warnings", config.queue)
    queue.bury(Job("1-0", "job-1", "warning.deliver", {"alert": "a1"}, 0, 5), "gave up after 5")
    staff("desk", "duty")
    login(page, live_server, "desk")
    page.click("nav >> text=失败投递")
    assert "gave up after 5" in page.locator("[data-testid=dead-letters]").inner_text()
    page.click("button:has-text('重新投递')")
    page.wait_for_selector("text=没有失败的投递")
    assert redis.xlen(queue.stream) == 1
    assert audit.entries(redis, action="dead_letter.retry")[0]["actor"] == "desk"
