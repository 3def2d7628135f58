"""Staff reply edits through the content API cannot break a warning: the fields are fixed by
code, placeholders are plain ``{field}`` names, and every reply is test-rendered before a save."""

from __future__ import annotations

import pytest

from content.reply_fields import REPLY_FIELDS
from content.store import effective_library
from tests.staff import sign_in

WARNING = "alert_warning_text"
WARNING_TEXT = ("{whose}{phone_masked}正遭遇疑似{type_name}（{channel_name}，对方{counterpart}，"
                "{detected_time}）。回1安全，回2已转账：{answer_url}")


@pytest.fixture
def editor(client):
    return sign_in(client, "propaganda", username="editor1")


def put_reply(editor, name: str, text: str, **extra):
    return editor.put(f"/api/v1/content/reply/{name}", json={"text": text, **extra})


def refused(response, reply: str, field: str, problem: str) -> None:
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert any(f"reply {reply!r}" in e and field in e and problem in e for e in errors), errors


def history(editor, name: str) -> list:
    return editor.get(f"/api/v1/content/reply/{name}/history").get_json()["versions"]


def test_a_format_spec_is_refused_naming_the_reply_and_field(editor, redis):
    response = put_reply(editor, WARNING, WARNING_TEXT.replace("{whose}", "{whose:>50000000}"))
    refused(response, WARNING, "{whose:>50000000}", "format specs are not allowed")
    assert history(editor, WARNING) == []
    fields = dict.fromkeys(REPLY_FIELDS[WARNING], "x")
    assert len(effective_library(redis).reply(WARNING, **fields)) < 600


@pytest.mark.parametrize("placeholder, problem", [
    ("{whose!r}", "conversions"),
    ("{whose.__class__}", "only plain {field} names"),
    ("{whose[0]}", "only plain {field} names"),
    ("{0}", "only plain {field} names"),
])
def test_conversions_attributes_indexes_and_positions_are_refused(editor, placeholder, problem):
    response = put_reply(editor, WARNING, WARNING_TEXT.replace("{whose}", placeholder))
    refused(response, WARNING, placeholder, problem)


def test_a_field_the_code_does_not_pass_is_refused(editor):
    response = put_reply(editor, "bind_ok", "绑定成功 {phone_masked}，{nickname}")
    refused(response, "bind_ok", "{nickname}", "which this reply does not have")


def test_dropping_a_field_the_reply_needs_is_refused(editor):
    response = put_reply(editor, "bind_sms_text", "【终结诈骗】验证码已发送，{ttl_min}分钟内有效。")
    refused(response, "bind_sms_text", "{code}", "must keep")


def test_declaring_other_fields_is_refused(editor):
    response = put_reply(editor, "bind_ok", "绑定成功 {phone_masked} {nickname}",
                         fields=["phone_masked", "nickname"])
    refused(response, "bind_ok", "fields", "fixed by code")


def test_a_reply_no_code_renders_cannot_be_created(editor):
    response = editor.post("/api/v1/content/reply",
                           json={"name": "my_reply", "fields": ["x"], "text": "{x:>9999}"})
    refused(response, "my_reply", "content/reply_fields.py", "no code renders this reply")


def test_rewording_with_the_same_fields_is_saved_and_rendered(editor, redis):
    response = put_reply(editor, WARNING, "注意！" + WARNING_TEXT)
    assert response.status_code == 200
    fields = {name: name for name in REPLY_FIELDS[WARNING]}
    assert effective_library(redis).reply(WARNING, **fields).startswith("注意！whose")
