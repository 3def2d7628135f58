"""Simulated citizens: the phone page, replies, SMS, and what happens when the webhook fails."""

from __future__ import annotations

import pytest
import requests

from sandbox.client import WebhookFailed
from tests.sandbox.conftest import SandboxEnv


def test_new_phone_page_redirects_to_a_citizen_with_chinese_ui(env: SandboxEnv) -> None:
    response = requests.get(env.base_url + "sandbox/phone", timeout=5)
    assert response.status_code == 200 and "/sandbox/phone/o" in response.url
    assert "关注公众号" in response.text and "发送" in response.text
    assert "http" not in response.text.split("<script>")[0].split("<style>")[0].lower()


def test_index_page_lists_citizens(env: SandboxEnv, follower: str) -> None:
    response = requests.get(env.base_url + "sandbox/", timeout=5)
    assert response.status_code == 200 and follower in response.text


@pytest.mark.parametrize("encrypt_mode", ["plain", "safe"], indirect=True)
def test_text_message_gets_the_webhooks_reply(env: SandboxEnv, follower: str) -> None:
    reply = env.client.send_text(follower, "这个电话是诈骗吗")
    assert reply == {"msgtype": "text", "content": "收到：这个电话是诈骗吗"}
    received = env.webhook.wait_for(lambda m: m.type == "text")
    assert received.message.id > 0 and received.message.source == follower
    shown = env.client.messages(follower, kind="reply")  # the welcome, then the answer
    assert shown[-1]["payload"]["content"] == "收到：这个电话是诈骗吗"


def test_failing_webhook_is_retried_three_times_then_shows_service_unavailable(
        env: SandboxEnv, follower: str) -> None:
    env.webhook.fail_with = 500
    with pytest.raises(WebhookFailed) as raised:
        env.client.send_text(follower, "在吗")
    assert raised.value.result["attempts"] == 3
    texts = [r for r in env.webhook.received if r.message.type == "text"]
    assert len(texts) == 3 and len({r.message.id for r in texts}) == 1
    assert env.client.messages(follower, kind="notice")[0]["payload"]["code"] == \
        "service_unavailable"


def test_sms_shows_on_the_phone_that_claimed_the_number(env: SandboxEnv, follower: str) -> None:
    env.client.send_sms("13800001234", "【终结诈骗】请勿转账")
    env.client.claim_phone(follower, "13800001234")
    env.client.send_sms("13800001234", "【终结诈骗】民警将联系您")
    sms = env.client.messages(follower, kind="sms")
    assert ([m["payload"]["text"] for m in sms]
            == ["【终结诈骗】请勿转账", "【终结诈骗】民警将联系您"])


def test_a_number_typed_in_full_width_claims_the_ascii_number(env: SandboxEnv,
                                                              follower: str) -> None:
    env.client.claim_phone(follower, "１３８ ００００-１２３４")
    env.client.send_sms("13800001234", "【终结诈骗】验证码 123456")
    sms = env.client.messages(follower, kind="sms")
    assert [m["payload"]["text"] for m in sms] == ["【终结诈骗】验证码 123456"]


def test_unfollow_sends_unsubscribe(env: SandboxEnv, follower: str) -> None:
    env.client.unfollow(follower)
    assert env.webhook.wait_for(lambda m: m.event == "unsubscribe").message.source == follower


def test_chat_feed_includes_the_citizens_own_messages(env: SandboxEnv, follower: str) -> None:
    env.client.send_text(follower, "你好")
    chat = requests.get(env.base_url + f"sandbox/api/citizens/{follower}/chat",
                        timeout=5).json()
    kinds = [item["kind"] for item in chat["items"]]
    assert kinds == ["reply", "citizen", "reply"]  # welcome, the question, the answer
    assert chat["citizen"]["subscribe"] == 1


def test_wait_for_messages_sees_a_template_sent_meanwhile(env: SandboxEnv, follower: str) -> None:
    env.wechat().message.send_template(follower, env.config.wechat.warning_template_id, {})
    assert len(env.client.wait_for_messages(follower, 1, timeout_s=60,
                                                 kind="template")) == 1
