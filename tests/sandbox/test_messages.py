"""Template and customer-service messages: WeChat's rules and the job-finish callback."""

from __future__ import annotations

import pytest
from wechatpy.exceptions import WeChatClientException

from tests.sandbox.conftest import SandboxEnv

WARNING_DATA = {"thing1": {"value": "疑似电信诈骗来电"}, "time2": {"value": "2024年5月1日 10:00"}}


def _errcode(call) -> int:
    with pytest.raises(WeChatClientException) as raised:
        call()
    return int(raised.value.errcode)


def test_template_send_returns_msgid_and_lands_on_the_phone(env: SandboxEnv,
                                                            follower: str) -> None:
    template_id = env.config.wechat.warning_template_id
    result = env.wechat().message.send_template(follower, template_id, WARNING_DATA,
                                                url="https://example.org/w/1")
    [message] = env.client.messages(follower, kind="template")
    assert message["msgid"] == result["msgid"]
    assert message["payload"]["data"] == WARNING_DATA
    assert message["received_at_ms"] > 0


def test_template_job_finish_event_reaches_the_webhook_signed_and_encrypted(
        env: SandboxEnv, follower: str) -> None:
    template_id = env.config.wechat.warning_template_id
    msgid = env.wechat().message.send_template(follower, template_id, WARNING_DATA)["msgid"]
    received = env.webhook.wait_for(lambda m: m.event == "templatesendjobfinish")
    assert received.is_safe
    assert received.message.id == msgid and received.message.status == "success"
    assert received.message.source == follower
    assert env.webhook.rejected == 0


def test_template_to_a_non_follower_is_43004(env: SandboxEnv) -> None:
    openid = env.client.new_citizen()
    wechat = env.wechat()
    template_id = env.config.wechat.warning_template_id
    send = lambda: wechat.message.send_template(openid, template_id, WARNING_DATA)  # noqa: E731
    assert _errcode(send) == 43004


def test_unregistered_template_is_40037(env: SandboxEnv, follower: str) -> None:
    wechat = env.wechat()
    assert _errcode(lambda: wechat.message.send_template(follower, "nope", WARNING_DATA)) == 40037


def test_stats_count_a_repeated_template_as_a_duplicate(env: SandboxEnv, follower: str) -> None:
    wechat = env.wechat()
    template_id = env.config.wechat.warning_template_id
    for _ in range(2):
        wechat.message.send_template(follower, template_id, WARNING_DATA)
    stats = env.client.stats()
    assert stats["counts"]["template"] == 2 and stats["duplicates"]["template"] == 1


def test_custom_text_inside_the_window_is_delivered(env: SandboxEnv, follower: str) -> None:
    env.wechat().message.send_text(follower, "您好，请问是否已转账？")
    [message] = env.client.messages(follower, kind="custom")
    assert message["payload"] == {"msgtype": "text", "text": {"content": "您好，请问是否已转账？"}}


def test_custom_link_is_delivered(env: SandboxEnv, follower: str) -> None:
    article = {"title": "防骗指南", "description": "d", "url": "https://example.org/a"}
    env.wechat().message.send_link(follower, article)
    assert env.client.messages(follower, kind="custom")[0]["payload"]["msgtype"] == "link"


def test_custom_after_48_hours_without_action_is_45015(env: SandboxEnv, follower: str) -> None:
    env.client.advance_clock(48 * 3600 + 1)
    wechat = env.wechat()
    assert _errcode(lambda: wechat.message.send_text(follower, "hi")) == 45015


def test_citizen_message_reopens_the_48_hour_window(env: SandboxEnv, follower: str) -> None:
    env.client.advance_clock(48 * 3600 + 1)
    env.client.send_text(follower, "在吗")
    env.wechat().message.send_text(follower, "在的")
    assert len(env.client.messages(follower, kind="custom")) == 1


def test_custom_to_an_unfollowed_citizen_is_43004(env: SandboxEnv, follower: str) -> None:
    env.client.unfollow(follower)
    wechat = env.wechat()
    assert _errcode(lambda: wechat.message.send_text(follower, "hi")) == 43004


def test_21st_custom_message_without_user_action_is_45047(env: SandboxEnv,
                                                          follower: str) -> None:
    wechat = env.wechat()
    for i in range(20):
        wechat.message.send_text(follower, f"第{i}条")
    assert _errcode(lambda: wechat.message.send_text(follower, "多余")) == 45047
    env.client.click_menu(follower, "MENU_CHECK")
    wechat.message.send_text(follower, "再来一条")


@pytest.mark.parametrize("keyword, value", [
    ("thing1", "疑似冒充客服诈骗来电，请立即挂断并拨打96110"),  # 23 characters
    ("character_string3", "某某理财APP"),
    ("phone_number2", "138-0013-8000 ext"),
    ("time4", "2024-05-01 10:00:00"),
    ("phrase5", "风险极高请注意"),
    ("thing1", ""),
])
def test_template_value_outside_its_keyword_type_is_47003_and_not_delivered(
        env: SandboxEnv, follower: str, keyword: str, value: str) -> None:
    wechat = env.wechat()
    data = {**WARNING_DATA, keyword: {"value": value}}
    send = lambda: wechat.message.send_template(  # noqa: E731
        follower, env.config.wechat.warning_template_id, data)
    assert _errcode(send) == 47003
    assert env.client.messages(follower, kind="template") == []
