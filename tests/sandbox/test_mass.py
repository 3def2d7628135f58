"""Mass sends: audience rules, clientmsgid idempotency, the monthly cap, the finish event."""

from __future__ import annotations

import json

import pytest
from wechatpy.exceptions import WeChatClientException

from tests.sandbox.conftest import SandboxEnv


def _followers(env: SandboxEnv, count: int) -> list[str]:
    openids = [env.client.new_citizen() for _ in range(count)]
    for openid in openids:
        env.client.follow(openid)
    return openids


def test_mass_send_to_fewer_than_two_openids_is_40130(env: SandboxEnv, follower: str) -> None:
    with pytest.raises(WeChatClientException) as raised:
        env.wechat().message.send_mass_text([follower], "防骗提示")
    assert raised.value.errcode == 40130


def test_mass_send_finish_event_counts_the_audience(env: SandboxEnv) -> None:
    openids = _followers(env, 3)
    result = env.wechat().message.send_mass_text(openids, "防骗提示", client_msg_id="b-1")
    event = env.webhook.wait_for(lambda m: m.event == "masssendjobfinish").message
    assert event.id == result["msg_id"] and event.status == "send success"
    assert (event.total_count, event.filter_count, event.sent_count, event.error_count) == \
        (3, 3, 3, 0)
    assert len(env.client.messages(kind="mass")) == 3


def test_mass_send_finish_event_has_wechats_nested_shape(env: SandboxEnv) -> None:
    import xmltodict

    openids = _followers(env, 2)
    result = env.wechat().message.send_mass_article(openids, "media-1", client_msg_id="b-2")
    received = env.webhook.wait_for(lambda m: m.event == "masssendjobfinish")
    event = xmltodict.parse(received.xml)["xml"]
    assert event["CopyrightCheckResult"]["Count"] == "1"
    assert event["CopyrightCheckResult"]["ResultList"]["item"]["ArticleIdx"] == "1"
    assert event["ArticleUrlResult"]["ResultList"]["item"]["ArticleUrl"].startswith("http")
    assert received.message.id == result["msg_id"] and received.message.sent_count == 2


def test_sendall_to_a_tag_reaches_only_its_members(env: SandboxEnv) -> None:
    openids = _followers(env, 3)
    wechat = env.wechat()
    tag_id = wechat.tag.create("城东")["id"]
    wechat.tag.tag_user(tag_id, openids[:2])
    wechat.message.send_mass_text(tag_id, "城东提示")
    assert {m["openid"] for m in env.client.messages(kind="mass")} == set(openids[:2])


def test_repeated_clientmsgid_returns_the_first_msg_id_without_sending(env: SandboxEnv) -> None:
    openids = _followers(env, 2)
    wechat = env.wechat()
    first = wechat.message.send_mass_text(openids, "提示", client_msg_id="broadcast-7")
    with pytest.raises(WeChatClientException) as raised:
        wechat.message.send_mass_text(openids, "提示", client_msg_id="broadcast-7")
    assert raised.value.errcode == 45065
    assert json.loads(raised.value.response.content)["msg_id"] == first["msg_id"]
    assert len(env.client.messages(kind="mass")) == 2


def test_clientmsgid_can_be_reused_after_24_hours(env: SandboxEnv) -> None:
    openids = _followers(env, 2)
    wechat = env.wechat()
    wechat.message.send_mass_text(openids, "提示", client_msg_id="broadcast-7")
    env.client.advance_clock(24 * 3600 + 1)
    wechat.message.send_mass_text(openids, "提示", client_msg_id="broadcast-7")
    assert len(env.client.messages(kind="mass")) == 4


def test_fifth_mass_in_a_month_is_filtered_out(env: SandboxEnv) -> None:
    openids = _followers(env, 2)
    wechat = env.wechat()
    for i in range(4):
        wechat.message.send_mass_text(openids, f"第{i}期", client_msg_id=f"m{i}")
    fresh = _followers(env, 1)[0]
    result = wechat.message.send_mass_text([*openids, fresh], "第5期", client_msg_id="m4")
    event = env.webhook.wait_for(
        lambda m: m.event == "masssendjobfinish" and m.id == result["msg_id"]).message
    assert (event.total_count, event.filter_count, event.sent_count) == (3, 1, 1)
    assert len(env.client.messages(openids[0], kind="mass")) == 4


def test_preview_reaches_one_follower_and_fires_no_event(env: SandboxEnv, follower: str) -> None:
    result = env.wechat().message.send_mass_text(follower, "预览", preview=True)
    [message] = env.client.messages(follower, kind="mass")
    assert message["payload"]["preview"] is True and message["msgid"] == result["msg_id"]
    assert env.client.citizen(follower)["mass_by_month"] == {}
