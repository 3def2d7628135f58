"""The cached session serializer signs and checks cookies as Flask does and follows key changes."""

from __future__ import annotations

from flask import Flask, session

from console.session_interface import CachedSerializerSessionInterface


def _app(secret: str) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret
    app.session_interface = CachedSerializerSessionInterface()

    @app.get("/set")
    def set_value() -> str:
        session["sid"] = "abc"
        return "ok"

    @app.get("/get")
    def get_value() -> str:
        return str(session.get("sid", "-"))

    return app


def test_a_session_set_on_one_request_is_read_back_on_the_next() -> None:
    client = _app("first-secret").test_client()
    client.get("/set")
    assert client.get("/get").text == "abc"


def test_a_changed_secret_key_rejects_cookies_signed_with_the_old_one() -> None:
    app = _app("first-secret")
    client = app.test_client()
    client.get("/set")
    app.secret_key = "second-secret"
    assert client.get("/get").text == "-"


def test_the_old_key_as_a_fallback_still_reads_old_cookies() -> None:
    app = _app("first-secret")
    client = app.test_client()
    client.get("/set")
    app.secret_key = "second-secret"
    app.config["SECRET_KEY_FALLBACKS"] = ["first-secret"]
    assert client.get("/get").text == "abc"
