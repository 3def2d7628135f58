"""Login, logout, session cookie and lockout, through the real form and a real Redis."""

from __future__ import annotations

from console.accounts import create_account
from console.throttle import LoginThrottle
from tests.conftest import make_config
from tests.console.conftest import PASSWORD, csrf_from, form_login


def test_console_pages_redirect_to_login_without_a_session(client):
    response = client.get("/console/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=/console/dashboard")


def test_staff_member_logs_in_with_the_right_password_and_sees_the_dashboard(client, admin_account):
    response = form_login(client, admin_account)
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/dashboard"
    page = client.get("/console/dashboard")
    assert page.status_code == 200
    assert "预警漏斗" in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_a_chinese_message(client, admin_account):
    response = form_login(client, admin_account, "wrong password!!")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/console/dashboard").status_code == 302


def test_unknown_username_gets_the_same_answer_as_a_wrong_password(client, admin_account):
    response = form_login(client, "nobody", PASSWORD)
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite_lax(client, admin_account):
    response = form_login(client, admin_account)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the demo public_url is http
    assert "Expires=" in cookie


def test_session_cookie_is_secure_when_the_public_url_is_https(redis, redis_url):
    from app import create_app

    app = create_app(make_config(redis_url, service={"public_url": "https://fz.example.cn"}), redis)
    create_account(redis, "chief", PASSWORD, "admin")
    response = form_login(app.test_client(), "chief")
    assert "Secure" in response.headers["Set-Cookie"]


def test_logout_ends_the_session(client, admin_account):
    form_login(client, admin_account)
    token = csrf_from(client.get("/console/dashboard").get_data(as_text=True))
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/console/dashboard").status_code == 302


def test_login_redirects_only_inside_the_console(client, admin_account):
    page = client.get("/console/login")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post("/console/login", data={
        "username": admin_account, "password": PASSWORD, "csrf_token": token,
        "next": "//evil.example.com/console/"})
    assert response.headers["Location"] == "/console/dashboard"


def test_username_is_locked_after_five_failures_even_with_the_right_password(client, admin_account):
    for _ in range(5):
        assert form_login(client, admin_account, "wrong password!!").status_code == 401
    response = form_login(client, admin_account, PASSWORD)
    assert response.status_code == 429
    assert "暂时锁定" in response.get_data(as_text=True)


def test_lockout_of_one_username_does_not_lock_another(client, admin_account, redis):
    create_account(redis, "deputy", PASSWORD, "duty")
    for _ in range(5):
        form_login(client, admin_account, "wrong password!!")
    assert form_login(client, "deputy").status_code == 302


def test_one_ip_trying_many_usernames_is_throttled(redis, redis_url, admin_account):
    from app import create_app

    config = make_config(redis_url, console={"login_max_failures_per_ip": 3})
    client = create_app(config, redis).test_client()
    for name in ("a1", "a2", "a3"):
        form_login(client, name, "whatever password", ip="10.1.2.3")
    assert form_login(client, admin_account, ip="10.1.2.3").status_code == 429
    assert form_login(client, admin_account, ip="10.9.9.9").status_code == 302


def test_lockout_lifts_when_the_window_expires(redis, config):
    throttle = LoginThrottle(redis, config.console)
    for _ in range(5):
        throttle.record_failure("chief", "10.0.0.1")
    assert throttle.is_blocked("chief", "10.0.0.2")
    for key in redis.keys("staff:{login}:*"):
        assert 0 < redis.ttl(key) <= config.console.login_lockout_s
        redis.delete(key)
    assert not throttle.is_blocked("chief", "10.0.0.2")


def test_successful_login_clears_the_username_failure_count(client, admin_account):
    for _ in range(4):
        form_login(client, admin_account, "wrong password!!")
    assert form_login(client, admin_account).status_code == 302
    client.get("/console/login")
    for _ in range(4):
        form_login(client, admin_account, "wrong password!!")
    assert form_login(client, admin_account).status_code == 302


def test_login_throttle_counters_work_on_a_redis_cluster(cluster_redis, config):
    throttle = LoginThrottle(cluster_redis, config.console)
    for _ in range(5):
        throttle.record_failure("chief", "10.0.0.1")
    assert throttle.is_blocked("chief", "10.0.0.9")
    assert throttle.is_blocked("someone", "10.0.0.1") is False


def test_demo_seeded_admin_can_log_in(client, redis, config):
    from demo.seed import seed_demo

    password = seed_demo(config, redis)
    assert form_login(client, "admin", password).status_code == 302


def test_deleted_account_loses_its_open_session_at_once(client, redis):
    from console.accounts import delete_account
    from tests.staff import sign_in

    sign_in(client, "duty", username="leaver")
    assert client.get("/api/v1/alerts").status_code == 200
    delete_account(redis, "leaver")
    assert client.get("/api/v1/alerts").status_code == 401


def test_role_change_applies_to_an_open_session(client, redis):
    from store import keys
    from tests.staff import sign_in

    sign_in(client, "duty", username="moved")
    assert client.get("/api/v1/alerts").status_code == 200
    redis.hset(keys.staff_user("moved"), "role", "propaganda")
    assert client.get("/api/v1/alerts").status_code == 403
