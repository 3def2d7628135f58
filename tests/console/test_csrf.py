"""CSRF: every cookie-authenticated state change needs the session's token."""

from __future__ import annotations

from tests.console.conftest import PASSWORD, csrf_from, form_login


def test_login_form_without_the_token_is_refused(client, admin_account):
    client.get("/console/login")
    response = client.post("/console/login", data={"username": admin_account,
                                                   "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/console/dashboard").status_code == 302


def test_console_form_post_without_the_token_is_refused_and_changes_nothing(client, admin_account,
                                                                            redis):
    form_login(client, admin_account)
    response = client.post("/console/accounts", data={
        "username": "intruder", "password": "long enough password", "role": "admin"})
    assert response.status_code == 400
    assert "请求已过期" in response.get_data(as_text=True)
    assert not redis.exists("staff:{staff}:user:intruder")


def test_console_form_post_with_a_wrong_token_is_refused(client, admin_account, redis):
    form_login(client, admin_account)
    response = client.post("/console/accounts", data={
        "username": "intruder", "password": "long enough password", "role": "admin",
        "csrf_token": "guessed"})
    assert response.status_code == 400
    assert not redis.exists("staff:{staff}:user:intruder")


def test_json_request_with_a_session_but_no_token_header_is_refused(client, admin_account):
    form_login(client, admin_account)
    response = client.post("/api/v1/accounts", json={
        "username": "intruder", "password": "long enough password", "role": "admin"})
    assert response.status_code == 400


def test_json_request_with_the_token_header_succeeds(client, admin_account, redis):
    form_login(client, admin_account)
    token = csrf_from(client.get("/console/dashboard").get_data(as_text=True))
    response = client.post("/api/v1/accounts", headers={"X-CSRF-Token": token}, json={
        "username": "deputy", "password": "long enough password", "role": "duty"})
    assert response.status_code == 201
    assert redis.exists("staff:{staff}:user:deputy")


def test_token_seen_before_login_is_useless_after_login(client, admin_account):
    page = client.get("/console/login")
    before = csrf_from(page.get_data(as_text=True))
    client.post("/console/login", data={"username": admin_account, "password": PASSWORD,
                                         "csrf_token": before})
    response = client.post("/api/v1/accounts", headers={"X-CSRF-Token": before}, json={
        "username": "deputy", "password": "long enough password", "role": "duty"})
    assert response.status_code == 400


def test_requests_without_a_staff_session_are_not_subject_to_the_console_token(client):
    # The WeChat webhook and signed machine APIs carry no cookie: CSRF does not apply to them.
    response = client.post("/api/v1/accounts", json={"username": "x"})
    assert response.status_code == 401
