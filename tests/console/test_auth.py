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


def _copy_of_cookie(app, client):
    thief = app.test_client()
    thief.set_cookie("endfraud_session", client.get_cookie("endfraud_session").value)
    return thief


def test_a_copy_of_the_cookie_opens_nothing_after_logout(app, client, admin_account):
    form_login(client, admin_account)
    thief = _copy_of_cookie(app, client)
    assert thief.get("/api/v1/audit").status_code == 200
    token = csrf_from(client.get("/console/dashboard").get_data(as_text=True))
    client.post("/console/logout", data={"csrf_token": token})
    assert thief.get("/api/v1/audit").status_code == 401
    assert thief.get("/console/dashboard").status_code == 302


def test_a_re_created_account_does_not_accept_the_old_accounts_cookie(app, client, redis,
                                                                      admin_account):
    from console.accounts import delete_account

    form_login(client, admin_account)
    old = _copy_of_cookie(app, client)
    delete_account(redis, admin_account)
    create_account(redis, admin_account, PASSWORD, "admin")
    assert old.get("/api/v1/audit").status_code == 401
    assert form_login(app.test_client(), admin_account).status_code == 302


def test_login_redirects_only_inside_the_console(client, admin_account):
    page = client.get("/console/login")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post("/console/login", data={
        "username": admin_account, "password": PASSWORD, "csrf_token": token,
        "next": "//evil.example.com/console/"})
    assert response.headers["Location"] == "/console/dashboard"


def test_a_client_waits_after_five_failures_even_with_the_right_password(client, admin_account):
    for _ in range(5):
        assert form_login(client, admin_account, "wrong password!!").status_code == 401
    response = form_login(client, admin_account, PASSWORD)
    assert response.status_code == 429
    assert "暂时锁定" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 30


def test_wrong_passwords_from_one_client_do_not_lock_the_account_for_another(client,
                                                                            admin_account):
    for _ in range(12):
        form_login(client, admin_account, "wrong password!!", ip="10.6.6.6")
    assert form_login(client, admin_account, "wrong password!!", ip="10.6.6.6").status_code == 429
    assert form_login(client, admin_account, ip="10.1.1.1").status_code == 302


def test_delays_grow_with_each_further_attempt_of_the_pair(redis, config):
    from store import keys

    throttle = LoginThrottle(redis, config.console)
    wait_key = keys.login_wait("chief", "10.0.0.1")
    delays_s = []
    for attempt in range(1, 11):
        assert throttle.attempt("chief", "10.0.0.1") == 0
        if attempt < config.console.login_max_failures_per_pair:
            assert redis.pttl(wait_key) < 0  # no delay yet
            continue
        delays_s.append(round(redis.pttl(wait_key) / 1000))
        assert throttle.attempt("chief", "10.0.0.1") > 0  # refused while the delay runs
        redis.delete(wait_key)  # the delay has passed
    assert delays_s == [30, 60, 120, 240, 480, 900]


def test_concurrent_guesses_check_at_most_five_passwords_before_the_delay(redis, redis_url,
                                                                         admin_account):
    from concurrent.futures import ThreadPoolExecutor

    from app import create_app

    # A first delay longer than any loaded CI box needs for the burst.
    app = create_app(make_config(redis_url, console={"login_first_delay_s": 900}), redis)

    def guess(i: int) -> int:
        return form_login(app.test_client(), admin_account, f"wrong password {i:03d}",
                          ip="10.7.7.7").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(guess, range(24)))
    assert statuses.count(401) == app.config["ENDFRAUD"].console.login_max_failures_per_pair
    assert statuses.count(429) == 24 - statuses.count(401)


def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_appended(redis, redis_url,
                                                                            admin_account):
    from app import create_app

    client = create_app(make_config(redis_url, console={"trusted_proxy_hops": 1}),
                        redis).test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def via_proxy(forwarded: str, password: str):
        page = client.get("/console/login", environ_base=proxy)
        return client.post("/console/login", environ_base=proxy,
                           headers={"X-Forwarded-For": forwarded},
                           data={"username": admin_account, "password": password,
                                 "csrf_token": csrf_from(page.get_data(as_text=True))})

    # The attacker forges the admin's address first; the proxy appends the real one last.
    for _ in range(8):
        via_proxy("10.1.1.1, 10.6.6.6", "wrong password!!")
    assert via_proxy("10.1.1.1, 10.6.6.6", PASSWORD).status_code == 429
    assert via_proxy("10.1.1.1", PASSWORD).status_code == 302


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, admin_account):
    for _ in range(6):
        client.get("/console/login")
        form_login(client, admin_account, "wrong password!!", ip="10.6.6.6")
    page = client.get("/console/login", environ_base={"REMOTE_ADDR": "10.6.6.6"})
    response = client.post("/console/login", environ_base={"REMOTE_ADDR": "10.6.6.6"},
                           headers={"X-Forwarded-For": "10.2.2.2"},
                           data={"username": admin_account, "password": PASSWORD,
                                 "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 429


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


def test_throttle_keys_expire_within_the_window(redis, config):
    throttle = LoginThrottle(redis, config.console)
    for _ in range(5):
        throttle.attempt("chief", "10.0.0.1")
        throttle.record_failure("10.0.0.1")
    assert throttle.attempt("chief", "10.0.0.1") > 0
    assert throttle.attempt("chief", "10.0.0.2") == 0
    for key in redis.keys("staff:{login}:*"):
        assert 0 < redis.ttl(key) <= config.console.login_lockout_s


def test_successful_login_clears_the_username_failure_count(client, admin_account):
    for _ in range(4):
        form_login(client, admin_account, "wrong password!!")
    assert form_login(client, admin_account).status_code == 302
    client.get("/console/login")
    for _ in range(4):
        form_login(client, admin_account, "wrong password!!")
    assert form_login(client, admin_account).status_code == 302


def test_login_throttle_works_on_a_redis_cluster(cluster_redis, config):
    throttle = LoginThrottle(cluster_redis, config.console)
    for _ in range(5):
        assert throttle.attempt("chief", "10.0.0.1") == 0
        throttle.record_failure("10.0.0.1")
    assert throttle.attempt("chief", "10.0.0.1") > 0
    assert throttle.attempt("chief", "10.0.0.9") == 0
    throttle.record_success("chief", "10.0.0.1")
    assert throttle.attempt("chief", "10.0.0.1") == 0


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
