"""Parametric QR codes: creation rules, the PNG, and scanning them from a simulated phone."""

from __future__ import annotations

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from tests.sandbox.conftest import SandboxEnv


def test_temporary_code_defaults_to_30_seconds(env: SandboxEnv) -> None:
    result = env.wechat().qrcode.create({"action_name": "QR_SCENE",
                                         "action_info": {"scene": {"scene_id": 7}}})
    assert result["expire_seconds"] == 30 and result["ticket"] and result["url"]


def test_temporary_code_lifetime_is_capped_at_30_days(env: SandboxEnv) -> None:
    result = env.wechat().qrcode.create({"action_name": "QR_STR_SCENE", "expire_seconds": 10**8,
                                         "action_info": {"scene": {"scene_str": "x"}}})
    assert result["expire_seconds"] == 2_592_000


def test_permanent_code_is_one_ticket_per_scene_without_expiry(env: SandboxEnv) -> None:
    body = {"action_name": "QR_LIMIT_STR_SCENE",
            "action_info": {"scene": {"scene_str": "officer:42"}}}
    wechat = env.wechat()
    first, again = wechat.qrcode.create(body), wechat.qrcode.create(body)
    assert "expire_seconds" not in first and first["ticket"] == again["ticket"]


def test_scene_str_longer_than_64_characters_is_refused(env: SandboxEnv) -> None:
    with pytest.raises(WeChatClientException):
        env.wechat().qrcode.create({"action_name": "QR_LIMIT_STR_SCENE",
                                    "action_info": {"scene": {"scene_str": "x" * 65}}})


def test_showqrcode_returns_a_png(env: SandboxEnv) -> None:
    ticket = env.wechat().qrcode.create({"action_name": "QR_LIMIT_SCENE",
                                         "action_info": {"scene": {"scene_id": 1}}})["ticket"]
    response = requests.get(env.base_url + "cgi-bin/showqrcode", params={"ticket": ticket},
                            timeout=5)
    assert response.headers["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n" and len(response.content) > 200


def test_showqrcode_of_an_expired_ticket_is_404(env: SandboxEnv) -> None:
    ticket = env.wechat().qrcode.create({"action_name": "QR_SCENE",
                                         "action_info": {"scene": {"scene_id": 1}}})["ticket"]
    env.client.advance_clock(31)
    response = requests.get(env.base_url + "cgi-bin/showqrcode", params={"ticket": ticket},
                            timeout=5)
    assert response.status_code == 404


@pytest.mark.parametrize("encrypt_mode", ["plain", "safe"], indirect=True)
def test_scanning_a_code_to_follow_sends_a_signed_qrscene_subscribe(env: SandboxEnv,
                                                                   encrypt_mode: str) -> None:
    ticket = env.wechat().qrcode.create({
        "action_name": "QR_LIMIT_STR_SCENE",
        "action_info": {"scene": {"scene_str": "officer:42"}}})["ticket"]
    openid = env.client.new_citizen()
    reply = env.client.follow(openid, ticket=ticket)
    received = env.webhook.wait_for(lambda m: m.event == "subscribe_scan")
    assert received.is_safe == (encrypt_mode == "safe")
    assert received.args["openid"] == openid and env.webhook.rejected == 0
    assert "<EventKey><![CDATA[qrscene_officer:42]]></EventKey>" in received.xml
    assert received.message.ticket == ticket
    assert received.message.target == env.client.account()["gh_id"]
    assert reply == {"msgtype": "text", "content": "欢迎关注终结诈骗"}


def test_follow_by_scene_is_recorded_in_user_info(env: SandboxEnv) -> None:
    openid = env.client.new_citizen()
    env.client.follow(openid, scene="community:7")
    info = env.wechat().user.get(openid)
    assert info["subscribe_scene"] == "ADD_SCENE_QR_CODE"
    assert info["qr_scene_str"] == "community:7"


def test_scanning_while_following_sends_scan_with_the_bare_scene(env: SandboxEnv,
                                                                 follower: str) -> None:
    env.client.follow(follower, scene="officer:9")
    received = env.webhook.wait_for(lambda m: m.event == "scan")
    assert received.message.scene_id == "officer:9"


def test_opening_a_codes_url_starts_a_phone_that_scans_it(env: SandboxEnv) -> None:
    result = env.wechat().qrcode.create({"action_name": "QR_LIMIT_SCENE",
                                         "action_info": {"scene": {"scene_id": 5}}})
    response = requests.get(result["url"], timeout=5)
    assert response.status_code == 200 and "/sandbox/phone/o" in response.url
    assert result["ticket"] in response.text  # the page scans it on load
