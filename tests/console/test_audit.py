"""The audit log: staff actions are recorded and the admin can filter them."""

from __future__ import annotations

from console import audit
from tests.console.conftest import csrf_from, form_login


def test_login_and_failed_login_are_audited(client, admin_account, redis):
    form_login(client, admin_account, "wrong password!!")
    form_login(client, admin_account)
    actions = [(e["actor"], e["action"]) for e in audit.entries(redis)]
    assert actions[:2] == [("chief", "login"), ("chief", "login.failed")]


def test_account_creation_is_audited_with_who_and_what(client, admin_account, redis):
    form_login(client, admin_account)
    token = csrf_from(client.get("/console/accounts").get_data(as_text=True))
    client.post("/console/accounts", data={"username": "deputy", "password": "long enough pw",
                                           "role": "duty", "csrf_token": token})
    entry = audit.entries(redis, action="account.")[0]
    assert ((entry["actor"], entry["action"], entry["target"])
            == ("chief", "account.create", "deputy"))
    assert entry["detail"]["role"] == "duty"


def test_audit_never_stores_the_password(client, admin_account, redis):
    form_login(client, admin_account)
    token = csrf_from(client.get("/console/accounts").get_data(as_text=True))
    client.post("/console/accounts", data={"username": "deputy", "password": "SecretPass123",
                                           "role": "duty", "csrf_token": token})
    dump = str(redis.xrange("audit:{a}"))
    assert "SecretPass123" not in dump


def test_a_state_change_whose_view_did_not_audit_is_still_recorded(app, login_as, redis):
    @app.post("/api/v1/_test_unaudited")
    def unaudited():
        return {"ok": True}

    login_as("duty", username="deputy").post("/api/v1/_test_unaudited")
    entry = audit.entries(redis)[0]
    assert entry["actor"] == "deputy"
    assert entry["action"] == "POST unaudited"
    assert entry["target"] == "/api/v1/_test_unaudited"


def test_audit_page_filters_by_actor_and_action(login_as, redis):
    audit.record(redis, "broadcast.schedule", "b1", actor="alice")
    audit.record(redis, "broadcast.cancel", "b1", actor="bob")
    audit.record(redis, "login", "alice", actor="alice")
    client = login_as("admin")
    page = client.get("/console/audit?actor=alice&action=broadcast").get_data(as_text=True)
    assert "broadcast.schedule" in page
    assert "broadcast.cancel" not in page and ">login<" not in page


def test_audit_api_filters_by_actor(login_as, redis):
    audit.record(redis, "broadcast.schedule", "b1", actor="alice")
    audit.record(redis, "broadcast.cancel", "b1", actor="bob")
    rows = login_as("admin").get("/api/v1/audit?actor=bob").get_json()["entries"]
    assert [r["action"] for r in rows] == ["broadcast.cancel"]
