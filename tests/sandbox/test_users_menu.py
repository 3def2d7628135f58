"""Followers, tags and the custom menu."""

from __future__ import annotations

from typing import Any

import pytest
from wechatpy.exceptions import WeChatClientException

from tests.sandbox.conftest import SandboxEnv

MENU = {"button": [
    {"type": "click", "name": "查一查", "key": "MENU_CHECK"},
    {"name": "防骗", "sub_button": [
        {"type": "view", "name": "防骗指南", "url": "https://example.org/guide"},
        {"type": "click", "name": "我要举报", "key": "MENU_REPORT"}]},
]}


def _errcode(call) -> int:
    with pytest.raises(WeChatClientException) as raised:
        call()
    return int(raised.value.errcode)


def test_user_get_lists_followers_in_follow_order(env: SandboxEnv) -> None:
    openids = [env.client.new_citizen() for _ in range(3)]
    for openid in openids:
        env.client.follow(openid)
    env.client.unfollow(openids[1])
    page = env.wechat().user.get_followers()
    assert page["total"] == 2 and page["data"]["openid"] == [openids[0], openids[2]]
    assert page["next_openid"] == openids[2]
    assert env.wechat().user.get_followers(openids[2])["count"] == 0


def test_unfollowed_user_info_says_not_subscribed(env: SandboxEnv, follower: str) -> None:
    env.client.unfollow(follower)
    assert env.wechat().user.get(follower) == {"subscribe": 0, "openid": follower}


def test_tagging_followers_shows_in_tag_lists(env: SandboxEnv, follower: str) -> None:
    wechat = env.wechat()
    tag = wechat.tag.create("城东社区")
    wechat.tag.tag_user(tag["id"], [follower])
    assert wechat.tag.get_user_tag(follower) == [tag["id"]]
    assert wechat.tag.get_tag_users(tag["id"])["data"]["openid"] == [follower]
    assert wechat.tag.get() == [{"id": tag["id"], "name": "城东社区", "count": 1}]
    wechat.tag.untag_user(tag["id"], [follower])
    assert wechat.tag.get_user_tag(follower) == []


def test_tagging_more_than_50_openids_is_40032(env: SandboxEnv, follower: str) -> None:
    wechat = env.wechat()
    tag_id = wechat.tag.create("t")["id"]
    assert _errcode(lambda: wechat.tag.tag_user(tag_id, [follower] * 51)) == 40032


def test_duplicate_tag_name_is_45157(env: SandboxEnv) -> None:
    wechat = env.wechat()
    wechat.tag.create("t")
    assert _errcode(lambda: wechat.tag.create("t")) == 45157


def test_menu_round_trips(env: SandboxEnv) -> None:
    wechat = env.wechat()
    wechat.menu.create(MENU)
    buttons = wechat.menu.get()["menu"]["button"]
    assert [b["name"] for b in buttons] == ["查一查", "防骗"]
    assert buttons[1]["sub_button"][1]["key"] == "MENU_REPORT"


@pytest.mark.parametrize(("menu", "errcode"), [
    ({"button": [{"type": "click", "name": "a", "key": "k"}] * 4}, 40016),
    ({"button": [{"type": "click", "name": "a"}]}, 40019),
    ({"button": [{"type": "nope", "name": "a", "key": "k"}]}, 40015),
    ({"button": [{"type": "click", "name": "一二三四五六", "key": "k"}]}, 40018),
    ({"button": [{"name": "a", "sub_button": [{"type": "click", "name": "b", "key": "k"}] * 6}]},
     40023),
    ({"button": [{"name": "a", "sub_button": [{"type": "view", "name": "b", "url": "x"}]}]}, 40027),
])
def test_invalid_menu_is_refused_with_wechats_code(env: SandboxEnv, menu: dict,
                                                   errcode: int) -> None:
    wechat = env.wechat()
    assert _errcode(lambda: wechat.menu.create(menu)) == errcode


def test_clicking_a_menu_item_sends_click_with_its_key(env: SandboxEnv, follower: str) -> None:
    env.wechat().menu.create(MENU)
    reply = env.client.click_menu(follower, "MENU_REPORT")
    received = env.webhook.wait_for(lambda m: m.event == "click")
    assert received.message.key == "MENU_REPORT"
    assert reply == {"msgtype": "text", "content": "菜单 MENU_REPORT"}


@pytest.mark.parametrize("kind, check", [
    ("scancode_push", lambda m: m.scan_type == "qrcode" and m.scan_result),
    ("scancode_waitmsg", lambda m: m.scan_type == "qrcode"),
    ("pic_sysphoto", lambda m: m.count == 1 and len(m.pictures[0]["PicMd5Sum"]) == 32),
    ("pic_photo_or_album", lambda m: m.count == 1),
    ("pic_weixin", lambda m: m.count == 1),
    ("location_select", lambda m: m.location == ("23", "113") and m.label),
])
def test_menu_buttons_of_other_types_send_their_nested_event(env: SandboxEnv, follower: str,
                                                              kind: str, check: Any) -> None:
    env.wechat().menu.create({"button": [{"type": kind, "name": "按钮", "key": "K1"}]})
    env.client.click_menu(follower, "K1")
    received = env.webhook.wait_for(lambda m: m.event == kind)
    assert received.message.key == "K1"
    assert check(received.message)
